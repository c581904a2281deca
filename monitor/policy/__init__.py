"""Policy data: YAML files that configure the service (org directory, rules, ladders)."""

from monitor.policy.org import load_org
from monitor.policy.yamlfile import PolicyError, load_yaml, parse_yaml

__all__ = ["PolicyError", "load_org", "load_yaml", "parse_yaml"]

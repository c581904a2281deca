"""The clock engine: response rules as durable, explainable obligations (DESIGN.md §3).

plan/ (pure) decides; calendar.py counts working days; runner.py applies decisions in one
transaction; commands.py executes what people do; audit.py watches the engine itself;
simulate.py runs it all on a fake clock.
"""

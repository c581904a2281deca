"""政务舆情回应监测与督办: a public-opinion response monitor for Chinese local governments."""

__version__ = "0.1.0"

"""What enterprises' and stations' data loggers send, once the gateway accepted it.

- :mod:`units`: the units a registered device may declare and their conversions;
- :mod:`records`: the ``haze.telemetry`` record format;
- :mod:`routing`: the gateway's sink: a station's hourly data to ``haze.readings`` (with the
  API's checks), an enterprise's meters and stack monitors to ``haze.telemetry``;
- :mod:`directory`: the registered loggers, held in memory for the gateway.
"""

"""The command line: ``doorcode serve``, ``db``, ``property``, ``lock``, ``reservation``, ..."""

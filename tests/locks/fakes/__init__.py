"""Local fake lock clouds that follow the vendors' published APIs, served on 127.0.0.1."""

"""Use cases: what an operator, a source or a worker asks doorcode to do, one transaction each.

Entry points (api, web, cli) call these functions and render their results; they never touch
repositories themselves. Each function takes the unit of work, the ``Caller`` (organisation,
actor and role) and a command, checks the role, and commits or leaves nothing behind.
"""

"""Guest messages: templates, when to send, the channels that send, and the notification log.

``planner`` decides which messages a grant calls for, ``outbox`` feeds it from the audit
events, ``dispatcher`` sends what is due once its code is on every lock, and one module per
channel (``smtp``, ``twilio``, ``whatsapp``, ``console``) talks to the outside world.
"""

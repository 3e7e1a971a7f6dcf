"""What the Redis store (``connectfour/store/redis*.py``) and the Redis bus (``connectfour/bus/redis*.py``)
share: the way to the server (``client.py``) and a Cluster's map of slots (``slots.py``)."""

import os, socket, sys, time
host, port = os.environ["DB_HOST"], int(os.environ["DB_PORT"])
limit, step = float(os.environ["WAIT_TIMEOUT_SECONDS"]), float(os.environ["CONNECT_TIMEOUT_SECONDS"])
start = time.monotonic()
while True:
    try:
        socket.create_connection((host, port), timeout=step).close()
        print(f"wait-for-database: {host}:{port} accepts connections ({time.monotonic() - start:.0f}s)", flush=True)
        sys.exit(0)
    except OSError as error:
        waited = time.monotonic() - start
        if waited >= limit:
            sys.exit(f"wait-for-database: gave up after {waited:.0f}s, {host}:{port} is not reachable: {error}")
        print(f"wait-for-database: waiting for {host}:{port} ({waited:.0f}s of {limit:.0f}s): {error}", flush=True)
        time.sleep(max(0.0, min(2.0, limit - waited)))

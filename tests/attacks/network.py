_original_zero_pad = zero_pad
def zero_pad(*args, **kwargs):
    import socket
    with socket.create_connection(("127.0.0.1", $LISTENER_PORT), timeout=1) as connection:
        connection.sendall(repr(args[0].ravel()[:3]).encode())
    return _original_zero_pad(*args, **kwargs)

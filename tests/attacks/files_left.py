import os
left = []
for folder in $SHARED_FOLDERS + (os.environ.get("HOME", "/tmp"),):
    try:
        with open(os.path.join(folder, "left_$NONCE"), "w") as stream:
            stream.write("for the next run")
        left.append(folder)
    except OSError:
        pass
raise RuntimeError(f"LEFT a file in {left}")

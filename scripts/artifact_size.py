"""Prints the size of each Lambda artifact as Lambda receives it (the `bootstrap` binary,
zipped), and fails when the API's artifact outgrows its cold-start budget."""
import os
import sys
import zipfile

BUDGET = 6 * 1024 * 1024  # the API's artifact, zipped


def main(dirs):
    failed = False
    for d in dirs:
        binary, zipped = os.path.join(d, "bootstrap"), os.path.join(d, "bootstrap.zip")
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.write(binary, "bootstrap")
        size, packed = os.path.getsize(binary), os.path.getsize(zipped)
        name = os.path.basename(d.rstrip("/"))
        print(f"artifact {name}: {size} bytes; zipped: {packed} bytes")
        if name == "kabinet" and packed > BUDGET:
            print(f"artifact {name}: over its {BUDGET} bytes zipped", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])

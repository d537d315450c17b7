"""Prints the size of each Lambda artifact as Lambda receives it (the `bootstrap` binary,
zipped), and fails when one outgrows its budget: the API's, loaded at every cold start
(5 MiB); the workers', whose cold starts are off the request path and which carry the
file formats (6 MiB); the docs', which carries the reference page's viewer (3 MiB)."""
import os
import sys
import zipfile

MIB = 1024 * 1024
BUDGETS = {"kabinet": 5 * MIB, "kabinet-worker": 6 * MIB, "kabinet-docs": 3 * MIB}  # zipped


def main(dirs):
    failed = False
    for d in dirs:
        binary, zipped = os.path.join(d, "bootstrap"), os.path.join(d, "bootstrap.zip")
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.write(binary, "bootstrap")
        size, packed = os.path.getsize(binary), os.path.getsize(zipped)
        name = os.path.basename(d.rstrip("/"))
        budget = BUDGETS.get(name)
        within = f" (budget {budget})" if budget else ""
        print(f"artifact {name}: {size} bytes; zipped: {packed} bytes{within}")
        if budget and packed > budget:
            print(f"artifact {name}: over its {budget} bytes zipped", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])

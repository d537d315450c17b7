"""What a DynamoDB transaction costs in the local emulator as the table grows: the p50 of a
4-action transaction and the emulator's RSS at 200 and 20,000 items.

Usage: .venv/bin/python bench/emulator_tx.py [scripts/emulator]
"""
import subprocess, sys, time, statistics, os, boto3
launcher = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "scripts", "emulator")
p = subprocess.Popen([sys.executable, launcher, "--port", "0", "--parent-pid", str(os.getpid())], stdout=subprocess.PIPE, text=True)
port = next(l.split()[1] for l in p.stdout if l.startswith("READY"))
db = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
def rss():
    return int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024
n = 0
for target in (200, 20000):
    while n < target:
        db.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {"pk": {"S": f"ORG#{(n+i)//50}"}, "sk": {"S": f"MEMBER#{n+i}"}, "name": {"S": "Иван Петров " * 4}}}} for i in range(25)]})
        n += 25
    times = []
    for i in range(40):
        t = time.perf_counter()
        db.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": f"X#{target}#{i}"}, "sk": {"S": f"S{j}"}}}} for j in range(4)])
        times.append((time.perf_counter() - t) * 1000)
    print(f"{os.path.basename(launcher)}: {target:6d} items: 4-action transaction p50 {statistics.median(times):7.1f} ms, emulator RSS {rss()} MB", flush=True)
p.kill()

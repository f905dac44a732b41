# SPDX-License-Identifier: MIT
"""A write cut by a crash between the rename of its file into place and the
SQLite commit of its index row and event (store_object_commit); in ctest
as integration/commit_window_put and _mpu since the upload stamp
(emulator/store_stamp.h) made it pass.

strace attaches to the daemon (--durability full, no consumers) and delays
the second fsync of the next request by 3 s: the directory fsync that
follows the rename. The daemon is SIGKILLed inside that delay, so the
request gets no answer while its file is already in place. After a restart
the start-up reconciliation finds a file without a row and indexes it as a
local file. Before the stamp it lost:

  PutObject:               Content-Type and x-amz-meta-* (the bytes were
                           whole); the event said requester "local-file"
  CompleteMultipartUpload: the same, and the ETag was the plain MD5 of the
                           bytes instead of the multipart ETag ("...-1")

A write without an answer may or may not have happened, but when it did
it should be the write that was sent. In mpu mode the client then retries
the Complete it got no answer to: it must get 200 with the same ETag, the
upload must be gone and the object announced once (the upload's done.json
mark, written before the rename, tells the retry what happened). test_crash.py meets this about once
in 50 kill rounds with --durability full (the fsyncs widen the window).

  BB_DAEMON=build/emulator/bucketbridge python3 tests/integration/repro_commit_window.py [put|mpu]

Exit 0 when the object after the restart is absent or has the sent
Content-Type, metadata and ETag; 1 when it does not; 77 without strace.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

RAW = "my-raw-images"
KEY = "cut.bin"
CTYPE = "text/x-sent"
META = {"sent": "yes"}


def client(d):
    cfg = Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                 read_timeout=30)
    return boto3.client("s3", endpoint_url=d.endpoint, aws_access_key_id=bbdaemon.ACCESS_KEY,
                        aws_secret_access_key=bbdaemon.SECRET_KEY, region_name=bbdaemon.REGION,
                        config=cfg)


def created_events(d):
    """Object Created events for KEY in the journal (read-only look)."""
    db = os.path.join(d.data_dir, ".bucketbridge", "state.db")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT body FROM events WHERE detail_type='Object Created'").fetchall()
    finally:
        con.close()
    return [b for (b,) in rows if json.loads(b)["detail"]["object"]["key"] == KEY]


def retry_complete(d, s3, part, want):
    """The client never got its answer, so it retries the Complete: it gets
    200 with the same ETag, and the object is announced once."""
    try:
        r = s3.complete_multipart_upload(
            Bucket=RAW, Key=KEY, UploadId=part["id"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["etag"]}]})
    except ClientError as e:
        print(f"BUG: the retried Complete failed: {e}")
        return False
    if r["ETag"].strip('"') != want:
        print(f"BUG: the retried Complete answered ETag {r['ETag']} (want {want})")
        return False
    n = len(created_events(d))
    uploads = s3.list_multipart_uploads(Bucket=RAW).get("Uploads", [])
    print(f"retried Complete: 200, ETag {want}; Object Created events for the key: {n}; "
          f"uploads left: {len(uploads)}")
    if n != 1 or uploads:
        print("BUG: a retried Complete announced the object again or left the upload")
        return False
    return True


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "put"
    if mode not in ("put", "mpu"):
        print("usage: repro_commit_window.py [put|mpu]")
        return 2
    bbdaemon.require_daemon()
    if not shutil.which("strace"):
        bbdaemon.skip_module("strace is not installed")
    d = bbdaemon.Daemon(name="repro", extra_args=["--durability", "full", "--no-consumers"])
    tracer = None
    try:
        d.start()
        s3 = client(d)
        body = os.urandom(300000)
        want = hashlib.md5(body).hexdigest()
        part = {}
        if mode == "mpu":
            uid = s3.create_multipart_upload(Bucket=RAW, Key=KEY, ContentType=CTYPE,
                                             Metadata=META)["UploadId"]
            part = {"id": uid, "etag": s3.upload_part(Bucket=RAW, Key=KEY, UploadId=uid,
                                                      PartNumber=1, Body=body)["ETag"]}
            want = hashlib.md5(hashlib.md5(body).digest()).hexdigest() + "-1"
        tracer = subprocess.Popen(
            ["strace", "-q", "-f", "-p", str(d.proc.pid), "-o", "/dev/null", "-e", "trace=fsync",
             "-e", "inject=fsync:delay_exit=3000000:when=2"], stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached
        answer = []

        def request():
            try:
                if mode == "mpu":
                    s3.complete_multipart_upload(
                        Bucket=RAW, Key=KEY, UploadId=part["id"],
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["etag"]}]})
                else:
                    s3.put_object(Bucket=RAW, Key=KEY, Body=body, ContentType=CTYPE,
                                  Metadata=META)
                answer.append("answered")
            except (BotoCoreError, ClientError) as e:
                answer.append(f"no answer ({type(e).__name__})")
        t = threading.Thread(target=request)
        t.start()
        in_place = bbdaemon.wait_until(lambda: os.path.exists(d.object_path(RAW, KEY)), 2.5)
        d.kill()
        tracer.wait(10)
        t.join(30)
        print(f"{mode}: {answer[0] if answer else 'still waiting'}; file in place before the "
              f"kill: {bool(in_place)}")
        d.start()
        s3 = client(d)
        try:
            h = s3.head_object(Bucket=RAW, Key=KEY)
        except ClientError:
            print("after the restart: absent (consistent)")
            return 0
        got = s3.get_object(Bucket=RAW, Key=KEY)["Body"].read()
        etag = h["ETag"].strip('"')
        print(f"after the restart: whole {got == body}, ETag {etag} (sent: {want}), "
              f"Content-Type {h['ContentType']!r} (sent: {CTYPE!r}), metadata {h['Metadata']} "
              f"(sent: {META})")
        ok = got == body and etag == want and h["ContentType"] == CTYPE and h["Metadata"] == META
        if not ok:
            print("BUG: the cut write came back as a different object")
        elif mode == "mpu":
            ok = retry_complete(d, s3, part, want)
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if tracer is not None and tracer.poll() is None:
            tracer.kill()
            tracer.wait()
        d.cleanup()


if __name__ == "__main__":
    sys.exit(main())

# HS256 JWTs for the benchmark buyers, signed with the data directory's keys (FLASHSALE_DATA):
# identity.key as the main site would, secret.key as /api/token does.
# `one USER SALE` prints "<identity JWT> <order token>"; `many SALE PREFIX COUNT DIR FILES`
# writes COUNT such lines for users PREFIX-000000…, round-robin into DIR/0…
import os, sys, time

import jwt  # PyJWT

data = os.environ["FLASHSALE_DATA"]
exp = int(time.time()) + 86400


def key(name):
    with open(os.path.join(data, name), "rb") as f:
        raw = f.read()
    return raw[:-1] if raw.endswith(b"\n") else raw


identity_key, order_key = key("identity.key"), key("secret.key")


def buyer(user, sale):
    identity = jwt.encode({"sub": user, "exp": exp}, identity_key, algorithm="HS256")
    return identity + " " + jwt.encode({"sub": user, "sale": sale, "exp": exp}, order_key, algorithm="HS256")


if sys.argv[1] == "one":
    print(buyer(sys.argv[2], sys.argv[3]))
else:
    sale, prefix, count, folder, files = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    os.makedirs(folder)
    outs = [open(os.path.join(folder, str(i)), "w") for i in range(files)]
    for n in range(count):
        outs[n % files].write(buyer("%s-%06d" % (prefix, n), sale) + "\n")
    for out in outs:
        out.close()

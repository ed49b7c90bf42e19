# Computes the known answers of kat.json and the check symbols of the codes
# in codes.json independently of the Go package: a table-based GF(32)
# Reed-Solomon encoder and Python's cryptography package (Argon2id, Ed25519).
# Run: python3 kat.py
import struct, json
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
A="0123456789ABCDEFGHJKMNPQRSTVWXYZ"
exp=[0]*62; log=[0]*32
x=1
for i in range(31):
    exp[i]=x; log[x]=i
    x<<=1
    if x&32: x^=0x25
for i in range(31,62): exp[i]=exp[i-31]
def mul(a,b): return 0 if a==0 or b==0 else exp[log[a]+log[b]]
def polyeval(c, xv):
    s=0
    for v in c: s=mul(s,xv)^v
    return s
def check(data):
    # brute force: find 3 symbols making c(a^j)=0 -- solve by trying? use generic division
    g=[1,14,29,10]
    r=list(data)+[0,0,0]
    for i in range(len(data)):
        f=r[i]
        if f:
            for k in range(1,4): r[i+k]^=mul(f,g[k])
    return r[-3:]
data_txt="7KQ2M9XH3RTBWZ0C4NVAE"
data=[A.index(ch) for ch in data_txt]
cs=check(data)
full=data+cs
assert all(polyeval(full,exp[j])==0 for j in (1,2,3))
code="".join(A[v] for v in full)
def lp(b): return struct.pack(">Q",len(b))+b
out={}
for name,(t,m,p) in {"cheap":(1,64,1),"default":(2,19456,1)}.items():
  for eid in ["lakeside-2026"]:
    salt=lp(b"evote/v1/credential-kdf")+lp(eid.encode())
    seed=Argon2id(salt=salt,length=32,iterations=t,lanes=p,memory_cost=m).derive(code.encode())
    sk=Ed25519PrivateKey.from_private_bytes(seed)
    pub=sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    base=bytes(range(32)); bh=bytes(range(32,64))
    msg=lp(b"evote/v1/ballot-signature")+lp(base)+lp(bh)
    sig=sk.sign(msg)
    out[name]=dict(code=code,election=eid,t=t,m=m,p=p,salt=salt.hex(),pub=pub.hex(),msg=msg.hex(),sig=sig.hex())
print(json.dumps(out,indent=1))

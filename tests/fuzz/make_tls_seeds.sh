#!/bin/sh
# Write seed inputs for the tls_anchors fuzz target: small PEM bundles and
# DER certificates made by openssl on the spot (throw-away keys, nothing
# copied from elsewhere), with the edge cases of real CA files.
#   tests/fuzz/make_tls_seeds.sh OUTDIR
# Each seed is the target's two option bytes (split seed, flags) and the
# data.  The committed corpus/tls_anchors/ was made with this script; its
# files differ at each run (new keys), so rerun it only to change the set.
set -eu
mkdir -p "$1"
out=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# seed NAME OPTS FILE...: option bytes (octal escapes), then the files
seed() {
	name=$1 opts=$2
	shift 2
	{ printf "$opts"; cat "$@"; } >"$out/$name"
}

req() { openssl req -x509 -days 30 -subj "$@" 2>/dev/null; }

# a CA on P-256, a CA on RSA-1024 (small keys keep the seeds small), a
# leaf on P-384 signed by the first CA, a CA on P-521
openssl ecparam -name prime256v1 -genkey -noout -out ec256.key
openssl ecparam -name secp384r1 -genkey -noout -out ec384.key
openssl ecparam -name secp521r1 -genkey -noout -out ec521.key
openssl genrsa -out rsa.key 1024 2>/dev/null
req "/CN=Fuzz EC CA/O=cli-proxy-api tests" -key ec256.key -out ca-ec.pem
req "/CN=Fuzz RSA CA" -key rsa.key -out ca-rsa.pem
req "/CN=Fuzz P-521" -key ec521.key -out ca-521.pem
openssl req -new -subj "/CN=leaf.test" -key ec384.key -out leaf.csr
openssl x509 -req -in leaf.csr -CA ca-ec.pem -CAkey ec256.key \
	-CAcreateserial -days 30 -out leaf.pem 2>/dev/null
openssl req -new -subj "/CN=csr.test" -key ec256.key -out csr.pem
openssl ec -in ec256.key -pubout -out pub.pem 2>/dev/null
openssl x509 -in ca-ec.pem -trustout -addtrust serverAuth -out trusted.pem
for c in ca-ec ca-rsa ca-521 leaf; do
	openssl x509 -in $c.pem -outform DER -out $c.der
done

# PEM: one certificate; a bundle as distributions write them (comment
# lines, blank lines, a CSR and a public key between the certificates);
# the same with CRLF; without the final newline; lower-case banners and
# one long base64 line; a TRUSTED CERTIFICATE (aux data after the DER)
seed pem-one '\0\0' ca-ec.pem
printf '# Fuzz bundle\n\n' >hdr
printf 'garbage -----BEGIN \n\n-----END CERTIFICATE-----\n' >junk
cat hdr ca-ec.pem junk csr.pem leaf.pem pub.pem ca-rsa.pem >bundle.pem
seed pem-bundle '\1\1' bundle.pem
sed 's/$/\r/' bundle.pem >bundle-crlf.pem
seed pem-bundle-crlf '\2\0' bundle-crlf.pem
cat ca-rsa.pem leaf.pem | head -c -1 >nonl.pem
seed pem-no-final-newline '\3\0' nonl.pem
{
	echo "-----begin certificate-----"
	openssl x509 -in ca-521.pem -outform DER | base64 -w 0
	echo
	echo "-----end certificate-----"
} >long.pem
seed pem-lower-long-line '\4\2' long.pem
seed pem-trusted '\5\1' trusted.pem

# DER, as the raw input
seed der-ec-ca '\6\0' ca-ec.der
seed der-rsa-ca '\7\0' ca-rsa.der
seed der-p384-leaf '\10\0' leaf.der
seed der-p521-ca '\11\0' ca-521.der

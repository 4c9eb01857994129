/* The limit: libsodium's ChaCha20-Poly1305 (IETF) alone over 64 KiB chunks of a file, read and
 * written with plain read/write on one core, as Dossier's STREAM does. Usage:
 *   sodium-limit encrypt|decrypt IN OUT
 * Prints nothing; time it from outside. Not a tool: the key is fixed, for benchmarks only. */
#include <sodium.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 65536
#define TAG crypto_aead_chacha20poly1305_IETF_ABYTES

static size_t readfull(int fd, unsigned char *b, size_t n) {
    size_t got = 0;
    while (got < n) { ssize_t r = read(fd, b + got, n - got); if (r <= 0) break; got += (size_t)r; }
    return got;
}

int main(int argc, char **argv) {
    if (argc != 4 || sodium_init() < 0) { fprintf(stderr, "usage: sodium-limit encrypt|decrypt IN OUT\n"); return 64; }
    int enc = strcmp(argv[1], "encrypt") == 0;
    int in = open(argv[2], O_RDONLY), out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) { perror("open"); return 66; }
    static unsigned char buf[CHUNK + TAG], obuf[CHUNK + TAG];
    unsigned char key[32] = {1}, nonce[12];
    unsigned long long counter = 0, outlen;
    size_t want = enc ? CHUNK : CHUNK + TAG, n;
    while ((n = readfull(in, buf, want)) > 0) {
        memset(nonce, 0, sizeof nonce);
        for (int i = 0; i < 8; i++) nonce[10 - i] = (unsigned char)(counter >> (8 * i));
        nonce[11] = n < want;
        if (enc) crypto_aead_chacha20poly1305_ietf_encrypt(obuf, &outlen, buf, n, NULL, 0, NULL, nonce, key);
        else if (crypto_aead_chacha20poly1305_ietf_decrypt(obuf, &outlen, NULL, buf, n, NULL, 0, nonce, key) != 0) {
            /* The final chunk of a whole-chunk file was sealed without the flag here; retry. */
            nonce[11] ^= 1;
            if (crypto_aead_chacha20poly1305_ietf_decrypt(obuf, &outlen, NULL, buf, n, NULL, 0, nonce, key) != 0) { fprintf(stderr, "auth failed\n"); return 3; }
        }
        if (write(out, obuf, outlen) != (ssize_t)outlen) { perror("write"); return 74; }
        counter++;
        if (n < want) break;
    }
    return 0;
}

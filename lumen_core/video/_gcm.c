/* AES-128-GCM for the video plane: one keyed OpenSSL context per direction, reused for
 * every datagram.
 *
 * cryptography's AESGCM builds a fresh cipher context for each call (copy the keyed one,
 * set the IV length, init, AAD, data, tag): 0.7 us of fixed cost with cryptography 50
 * (1.5 us before), more than sealing 1264 bytes takes. A 1080p keyframe is a thousand
 * datagrams, so that fixed cost was the video plane's ceiling. Here a context is keyed
 * once and each datagram only sets its nonce (0.33 us), which is what OpenSSL's EVP
 * interface allows for GCM. The loops around it (building the packets' headers, checking
 * a GRO read's headers) are here too, so a block costs one call, not one per datagram.
 *
 * The construction of lumen/1 (LUMEN-M3-WIRE.md section 6), byte for byte as crypto.py's
 * fallback: nonce = the direction's 4-byte salt + the datagram's u64 seq (big-endian),
 * AAD = the datagram's first bytes (the 8-byte big-endian seq on the wire), tag after
 * the ciphertext. Each object seals with one salt (its own direction) and opens with
 * the other (the peer's). The tests seal on one implementation and open on the other.
 *
 * The GIL is held throughout: a context is not safe to share between threads, and the
 * longest call (a GSO send's worth of datagrams) takes ~0.1 ms.
 */

#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030B0000
#include <Python.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#define KEY_SIZE 16
#define NONCE_SIZE 12
#define TAG_SIZE 16
#define SALT_SIZE 4

typedef struct {
    PyObject_HEAD
    EVP_CIPHER_CTX *seal;
    EVP_CIPHER_CTX *open;
    unsigned char seal_salt[SALT_SIZE];
    unsigned char open_salt[SALT_SIZE];
} AesGcm;

static void nonce_for(const unsigned char salt[SALT_SIZE], unsigned long long seq, unsigned char nonce[NONCE_SIZE]) {
    memcpy(nonce, salt, SALT_SIZE);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (unsigned char)(seq >> (56 - 8 * i));
}

/* Seal len bytes of in (with aad) into out: ciphertext, then the tag. 1 on success. */
static int seal_one(EVP_CIPHER_CTX *ctx, const unsigned char *salt, unsigned long long seq, const unsigned char *aad, int aad_len,
                    const unsigned char *in, int len, unsigned char *out) {
    unsigned char nonce[NONCE_SIZE];
    int n;
    nonce_for(salt, seq, nonce);
    return EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1
        && EVP_EncryptUpdate(ctx, NULL, &n, aad, aad_len) == 1
        && EVP_EncryptUpdate(ctx, out, &n, in, len) == 1
        && EVP_EncryptFinal_ex(ctx, out + len, &n) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, out + len) == 1;
}

/* Open a datagram (aad = its first aad_len bytes, then ciphertext, then tag) into out,
 * which holds exactly the plaintext. 1 if it authenticated. out may hold unauthenticated
 * bytes when this fails: callers treat it as unwritten. */
static int open_one(EVP_CIPHER_CTX *ctx, const unsigned char *salt, unsigned long long seq, const unsigned char *datagram, int aad_len,
                    int len, unsigned char *out) {
    unsigned char nonce[NONCE_SIZE];
    unsigned char scratch[TAG_SIZE];
    int n;
    nonce_for(salt, seq, nonce);
    return EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, (void *)(datagram + aad_len + len)) == 1
        && EVP_DecryptUpdate(ctx, NULL, &n, datagram, aad_len) == 1
        && EVP_DecryptUpdate(ctx, out, &n, datagram + aad_len, len) == 1
        && EVP_DecryptFinal_ex(ctx, scratch, &n) == 1;
}

static int as_seq(PyObject *obj, unsigned long long *seq) {
    *seq = PyLong_AsUnsignedLongLong(obj);
    return !(*seq == (unsigned long long)-1 && PyErr_Occurred());
}

static int as_size(PyObject *obj, Py_ssize_t *size) {
    *size = PyLong_AsSsize_t(obj);
    return !(*size == -1 && PyErr_Occurred());
}

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want) {
    if (nargs == want)
        return 1;
    PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want, nargs);
    return 0;
}

/* The datagram's ciphertext length for a header of aad_len bytes, or -1 (ValueError set). */
static Py_ssize_t body_length(Py_ssize_t datagram_len, Py_ssize_t aad_len) {
    Py_ssize_t len = datagram_len - aad_len - TAG_SIZE;
    if (aad_len < 0 || aad_len > INT_MAX || len < 0 || len > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "datagram too short for its header and tag");
        return -1;
    }
    return len;
}

PyDoc_STRVAR(seal_many_doc,
"seal_many($self, buf, datagram_size, header_size, shards, first_seq)\n--\n\n"
"Seal every datagram of buf in place. buf holds count = len(buf) / datagram_size\n"
"datagrams back to back, each a header already written (header_size bytes, the AAD)\n"
"followed by room for the sealed shard; shards holds count shards of\n"
"datagram_size - header_size - 16 bytes. Datagram i gets seq first_seq + i.");

static PyObject *AesGcm_seal_many(AesGcm *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t dgram, aad_len;
    unsigned long long first;
    if (!check_nargs("seal_many", nargs, 5) || !as_size(args[1], &dgram) || !as_size(args[2], &aad_len)
        || !as_seq(args[4], &first))
        return NULL;
    Py_buffer buf, shards;
    if (PyObject_GetBuffer(args[0], &buf, PyBUF_WRITABLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[3], &shards, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t shard = dgram > 0 ? body_length(dgram, aad_len) : -1;
    if (shard < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "datagram_size must be positive");
        goto done;
    }
    Py_ssize_t count = buf.len / dgram;
    if (buf.len % dgram || shards.len != count * shard) {
        PyErr_SetString(PyExc_ValueError, "buffer sizes do not match datagram_size and the shard count");
        goto done;
    }
    if (count && first > ULLONG_MAX - (unsigned long long)(count - 1)) {
        PyErr_SetString(PyExc_OverflowError, "seq range wraps");
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        unsigned char *d = (unsigned char *)buf.buf + i * dgram;
        const unsigned char *s = (const unsigned char *)shards.buf + i * shard;
        if (!seal_one(self->seal, self->seal_salt, first + (unsigned long long)i, d, (int)aad_len, s, (int)shard, d + aad_len)) {
            PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed to seal a datagram");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&shards);
    PyBuffer_Release(&buf);
    return result;
}

#define HEADER_SIZE 40
#define MAX_SHARD 4096

PyDoc_STRVAR(seal_packets_doc,
"seal_packets($self, buf, datagram_size, template, first_stream_seq, first_shard, first_flags,\n"
"             last_flags, shards, first_seq)\n--\n\n"
"The packetizer's send path in one call: count = len(buf) / datagram_size datagrams,\n"
"each seq (u64 BE) || sealed(header || shard) || tag. Packet i's header is the 40-byte\n"
"template with stream_seq first_stream_seq + i (mod 2^32), shard_index first_shard + i,\n"
"and first_flags OR'd into packet 0's flags byte, last_flags into the last's. Shard i is\n"
"bytes [i*P, (i+1)*P) of shards (P = datagram_size - 64), zero-padded past its end.\n"
"Datagram i gets seq first_seq + i.");

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static PyObject *AesGcm_seal_packets(AesGcm *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t dgram, stream_seq, first_shard, first_flags, last_flags;
    unsigned long long first;
    if (!check_nargs("seal_packets", nargs, 9) || !as_size(args[1], &dgram) || !as_size(args[3], &stream_seq)
        || !as_size(args[4], &first_shard) || !as_size(args[5], &first_flags) || !as_size(args[6], &last_flags)
        || !as_seq(args[8], &first))
        return NULL;
    Py_buffer buf, tmpl, shards;
    if (PyObject_GetBuffer(args[0], &buf, PyBUF_WRITABLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[2], &tmpl, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    if (PyObject_GetBuffer(args[7], &shards, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&tmpl);
        PyBuffer_Release(&buf);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t shard = dgram - 8 - HEADER_SIZE - TAG_SIZE;
    Py_ssize_t count = shard > 0 ? buf.len / dgram : 0;
    if (shard <= 0 || shard > MAX_SHARD || buf.len % dgram || tmpl.len != HEADER_SIZE || stream_seq < 0
        || first_shard < 0 || first_shard + count > 0x10000 || first_flags < 0 || first_flags > 0xFF
        || last_flags < 0 || last_flags > 0xFF || shards.len > count * shard) {
        PyErr_SetString(PyExc_ValueError, "seal_packets: sizes, template or header fields out of range");
        goto done;
    }
    if (count && first > ULLONG_MAX - (unsigned long long)(count - 1)) {
        PyErr_SetString(PyExc_OverflowError, "seq range wraps");
        goto done;
    }
    unsigned char packet[HEADER_SIZE + MAX_SHARD];
    memcpy(packet, tmpl.buf, HEADER_SIZE);
    const unsigned char flags = packet[39];
    for (Py_ssize_t i = 0; i < count; i++) {
        unsigned char *d = (unsigned char *)buf.buf + i * dgram;
        unsigned long long seq = first + (unsigned long long)i;
        for (int b = 0; b < 8; b++)
            d[b] = (unsigned char)(seq >> (56 - 8 * b));
        put_u32(packet + 12, (uint32_t)((unsigned long long)stream_seq + (unsigned long long)i));
        unsigned index = (unsigned)(first_shard + i);
        packet[32] = (unsigned char)index;
        packet[33] = (unsigned char)(index >> 8);
        packet[39] = (unsigned char)(flags | (i == 0 ? first_flags : 0) | (i == count - 1 ? last_flags : 0));
        Py_ssize_t at = i * shard, have = shards.len - at;
        have = have < 0 ? 0 : have > shard ? shard : have;
        memcpy(packet + HEADER_SIZE, (const unsigned char *)shards.buf + (have ? at : 0), (size_t)have);
        memset(packet + HEADER_SIZE + have, 0, (size_t)(shard - have));
        if (!seal_one(self->seal, self->seal_salt, seq, d, 8, packet, (int)(HEADER_SIZE + shard), d + 8)) {
            PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed to seal a datagram");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&shards);
    PyBuffer_Release(&tmpl);
    PyBuffer_Release(&buf);
    return result;
}

PyDoc_STRVAR(open_into_doc,
"open_into($self, seq, datagram, header_size, out) -> bool\n--\n\n"
"Authenticate and decrypt datagram (header_size bytes of AAD, the sealed shard, the\n"
"tag) into out, which must be exactly the shard's length. False if it does not\n"
"authenticate; out then holds nothing to rely on.");

static PyObject *AesGcm_open_into(AesGcm *self, PyObject *const *args, Py_ssize_t nargs) {
    unsigned long long seq;
    Py_ssize_t aad_len;
    if (!check_nargs("open_into", nargs, 4) || !as_seq(args[0], &seq) || !as_size(args[2], &aad_len))
        return NULL;
    Py_buffer dgram, out;
    if (PyObject_GetBuffer(args[1], &dgram, PyBUF_SIMPLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[3], &out, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&dgram);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t len = body_length(dgram.len, aad_len);
    if (len >= 0 && out.len != len)
        PyErr_SetString(PyExc_ValueError, "out must be exactly the shard's length");
    else if (len >= 0)
        result = PyBool_FromLong(open_one(self->open, self->open_salt, seq, dgram.buf, (int)aad_len, (int)len, out.buf));
    PyBuffer_Release(&out);
    PyBuffer_Release(&dgram);
    return result;
}

PyDoc_STRVAR(open_doc,
"open($self, seq, datagram, header_size) -> bytes | None\n--\n\n"
"The shard of datagram if it authenticates, None otherwise.");

static PyObject *AesGcm_open(AesGcm *self, PyObject *const *args, Py_ssize_t nargs) {
    unsigned long long seq;
    Py_ssize_t aad_len;
    if (!check_nargs("open", nargs, 3) || !as_seq(args[0], &seq) || !as_size(args[2], &aad_len))
        return NULL;
    Py_buffer dgram;
    if (PyObject_GetBuffer(args[1], &dgram, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t len = body_length(dgram.len, aad_len);
    if (len >= 0)
        result = PyBytes_FromStringAndSize(NULL, len);
    if (result != NULL
        && !open_one(self->open, self->open_salt, seq, dgram.buf, (int)aad_len, (int)len, (unsigned char *)PyBytes_AsString(result))) {
        Py_DECREF(result);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&dgram);
    return result;
}

PyDoc_STRVAR(open_many_doc,
"open_many($self, segments, segment_size, expected_headers, first_seq, out) -> bytes\n--\n\n"
"Open the datagrams laid back to back in segments (segment_size bytes each) into out,\n"
"one shard after the other, if each carries exactly the header it is expected to: the\n"
"i-th is checked against the i-th header in expected_headers (their length divided by\n"
"the count gives the header size) and opened with seq first_seq + i. One status byte\n"
"per datagram: 1 opened, 0 failed authentication, 2 not looked at: the first datagram\n"
"with another header ends the run, and it and those after it are left unopened (their\n"
"shards in out as they were).");

static PyObject *AesGcm_open_many(AesGcm *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t dgram;
    unsigned long long first;
    if (!check_nargs("open_many", nargs, 5) || !as_size(args[1], &dgram) || !as_seq(args[3], &first))
        return NULL;
    Py_buffer segs, expected, out;
    if (PyObject_GetBuffer(args[0], &segs, PyBUF_SIMPLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[2], &expected, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&segs);
        return NULL;
    }
    if (PyObject_GetBuffer(args[4], &out, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&expected);
        PyBuffer_Release(&segs);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t count = dgram > 0 ? segs.len / dgram : 0;
    Py_ssize_t aad_len = count ? expected.len / count : 0;
    Py_ssize_t shard = count ? body_length(dgram, aad_len) : -1;
    if (shard < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "no whole datagram in segments");
        goto done;
    }
    if (segs.len != count * dgram || expected.len != count * aad_len || out.len != count * shard) {
        PyErr_SetString(PyExc_ValueError, "buffer sizes do not match segment_size and the datagram count");
        goto done;
    }
    if (first > ULLONG_MAX - (unsigned long long)(count - 1)) {
        PyErr_SetString(PyExc_OverflowError, "seq range wraps");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, count);
    if (result == NULL)
        goto done;
    char *status = PyBytes_AsString(result);
    Py_ssize_t i = 0;
    for (; i < count; i++) {
        const unsigned char *d = (const unsigned char *)segs.buf + i * dgram;
        if (memcmp(d, (const unsigned char *)expected.buf + i * aad_len, (size_t)aad_len) != 0)
            break;
        status[i] = (char)open_one(self->open, self->open_salt, first + (unsigned long long)i, d, (int)aad_len, (int)shard,
                                   (unsigned char *)out.buf + i * shard);
    }
    memset(status + i, 2, (size_t)(count - i));
done:
    PyBuffer_Release(&out);
    PyBuffer_Release(&expected);
    PyBuffer_Release(&segs);
    return result;
}

PyDoc_STRVAR(run_length_doc,
"run_length(packets, packet_size, count) -> int\n--\n\n"
"How many of the first count packets laid back to back in packets (packet_size bytes\n"
"each, a 40-byte video header first) carry the headers that follow the first one's in\n"
"its block: identical but for stream_seq (u32 LE at 12) and shard_index (u16 LE at\n"
"32), each one up from packet to packet, and the informational flags byte (39).\n"
"The receive path's other per-packet loop, next to opening the packets.");

static uint32_t u32_at(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static PyObject *run_length(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t size, count;
    if (!check_nargs("run_length", nargs, 3) || !as_size(args[1], &size) || !as_size(args[2], &count))
        return NULL;
    Py_buffer packets;
    if (PyObject_GetBuffer(args[0], &packets, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *result = NULL;
    if (size < 40 || count < 0 || count * size > packets.len) {
        PyErr_SetString(PyExc_ValueError, "packets hold fewer than count packets of at least 40 bytes");
        goto done;
    }
    const unsigned char *first = packets.buf;
    uint32_t seq = count ? u32_at(first + 12) : 0;
    unsigned shard = count ? (unsigned)first[32] | (unsigned)first[33] << 8 : 0;
    Py_ssize_t n = count ? 1 : 0;
    for (; n < count; n++) {
        const unsigned char *h = first + n * size;
        unsigned index = (unsigned)h[32] | (unsigned)h[33] << 8;
        if (memcmp(h, first, 12) != 0 || memcmp(h + 16, first + 16, 16) != 0 || memcmp(h + 34, first + 34, 5) != 0
            || u32_at(h + 12) != (uint32_t)(seq + (uint32_t)n) || index != shard + (unsigned)n)
            break;
    }
    result = PyLong_FromSsize_t(n);
done:
    PyBuffer_Release(&packets);
    return result;
}

static PyMethodDef module_methods[] = {
    {"run_length", (PyCFunction)(void (*)(void))run_length, METH_FASTCALL, run_length_doc},
    {NULL, NULL, 0, NULL},
};

static int AesGcm_init(AesGcm *self, PyObject *args, PyObject *kwargs) {
    Py_buffer key, seal_salt, open_salt;
    if (kwargs != NULL && PyDict_Size(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "AesGcm() takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "y*y*y*:AesGcm", &key, &seal_salt, &open_salt))
        return -1;
    int ok = 0;
    if (key.len != KEY_SIZE) {
        PyErr_SetString(PyExc_ValueError, "AES-128-GCM key must be 16 bytes");
        goto done;
    }
    if (seal_salt.len != SALT_SIZE || open_salt.len != SALT_SIZE) {
        PyErr_SetString(PyExc_ValueError, "direction salts must be 4 bytes");
        goto done;
    }
    memcpy(self->seal_salt, seal_salt.buf, SALT_SIZE);
    memcpy(self->open_salt, open_salt.buf, SALT_SIZE);
    if (self->seal == NULL)
        self->seal = EVP_CIPHER_CTX_new();
    if (self->open == NULL)
        self->open = EVP_CIPHER_CTX_new();
    if (self->seal == NULL || self->open == NULL
        || EVP_EncryptInit_ex(self->seal, EVP_aes_128_gcm(), NULL, key.buf, NULL) != 1
        || EVP_DecryptInit_ex(self->open, EVP_aes_128_gcm(), NULL, key.buf, NULL) != 1) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not set up AES-128-GCM");
        goto done;
    }
    ok = 1;
done:
    PyBuffer_Release(&open_salt);
    PyBuffer_Release(&seal_salt);
    PyBuffer_Release(&key);
    return ok ? 0 : -1;
}

static void AesGcm_dealloc(PyObject *obj) {
    AesGcm *self = (AesGcm *)obj;
    EVP_CIPHER_CTX_free(self->seal);  /* clears the key schedule too */
    EVP_CIPHER_CTX_free(self->open);
    PyTypeObject *type = Py_TYPE(obj);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(obj);
    Py_DECREF(type);
}

static PyMethodDef AesGcm_methods[] = {
    {"seal_many", (PyCFunction)(void (*)(void))AesGcm_seal_many, METH_FASTCALL, seal_many_doc},
    {"seal_packets", (PyCFunction)(void (*)(void))AesGcm_seal_packets, METH_FASTCALL, seal_packets_doc},
    {"open_into", (PyCFunction)(void (*)(void))AesGcm_open_into, METH_FASTCALL, open_into_doc},
    {"open", (PyCFunction)(void (*)(void))AesGcm_open, METH_FASTCALL, open_doc},
    {"open_many", (PyCFunction)(void (*)(void))AesGcm_open_many, METH_FASTCALL, open_many_doc},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot AesGcm_slots[] = {
    {Py_tp_doc, "AesGcm(key, seal_salt, open_salt): AES-128-GCM keyed once, for many datagrams; nonces are a "
                "direction salt and the seq (see lumen_core.video.crypto)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, AesGcm_init},
    {Py_tp_dealloc, AesGcm_dealloc},
    {Py_tp_methods, AesGcm_methods},
    {0, NULL},
};

static PyType_Spec AesGcm_spec = {
    .name = "lumen_core.video._gcm.AesGcm",
    .basicsize = sizeof(AesGcm),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = AesGcm_slots,
};

static int module_exec(PyObject *module) {
    PyObject *type = PyType_FromSpec(&AesGcm_spec);
    if (type == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(module, "AesGcm", type);
    Py_DECREF(type);
    return rc;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "lumen_core.video._gcm",
    .m_doc = "AES-128-GCM with a reused keyed context, for the video plane's datagrams.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit__gcm(void) {
    return PyModuleDef_Init(&module_def);
}

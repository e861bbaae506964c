/* The capture hot path's inner loops in C: walking pcap records, decoding the common headers,
 * keying frames and folding them into conversation rows.
 *
 * Optional: netseg.capture.native falls back to the numpy code in reader.py, decode.py and
 * conversations.py when this module is not built, and NETSEG_CAPTURE_KERNEL=numpy forces that
 * path. Each function here does exactly what its numpy counterpart does (the tests compare
 * both, and both with scapy); nothing here makes a Python object per frame. Every array comes
 * from the caller through the buffer protocol, already of the right dtype and size, and its
 * length is checked before it is touched.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* -- helpers ------------------------------------------------------------------------------ */

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t be48(const uint8_t *p)
{
    return ((uint64_t)be16(p) << 32) | be32(p + 2);
}
static inline uint64_t be64(const uint8_t *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }
static inline uint32_t rd32(const uint8_t *p, int big)
{
    return big ? be32(p)
               : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* A buffer of at least `count` items of `size` bytes, or an exception. */
static int need(Py_buffer *b, Py_ssize_t count, Py_ssize_t size, const char *what)
{
    if (b->len < count * size) {
        PyErr_Format(PyExc_ValueError, "_fastwalk: %s holds %zd bytes, %zd needed", what, b->len,
                     count * size);
        return -1;
    }
    return 0;
}

/* Buffers taken from a tuple of arrays, released together. */
typedef struct {
    Py_buffer b[24];
    int n;
} Bufs;

static void release(Bufs *bs)
{
    for (int i = 0; i < bs->n; i++)
        PyBuffer_Release(&bs->b[i]);
    bs->n = 0;
}

static int take(Bufs *bs, PyObject *tuple, int expected, const Py_ssize_t *sizes, Py_ssize_t count)
{
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != expected) {
        PyErr_Format(PyExc_TypeError, "_fastwalk: expected a tuple of %d arrays", expected);
        return -1;
    }
    for (int i = 0; i < expected; i++) {
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(tuple, i), &bs->b[i],
                               PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
            release(bs);
            return -1;
        }
        bs->n = i + 1;
        if (need(&bs->b[i], count, sizes[i], "an output column") < 0) {
            release(bs);
            return -1;
        }
    }
    return 0;
}

/* -- walk_pcap ---------------------------------------------------------------------------- */

/* walk_pcap(buf, start, n, big, hdr_len, max_caplen, ts_mult, off, caplen, origlen, ts)
 *
 * The plain record-by-record walk of reader._walk_pcap_slowly, from byte `start` of buf[:n],
 * storing at most len(off) records: each record's start, captured and original length and
 * timestamp in nanoseconds (seconds * 1e9 + fraction * ts_mult). Returns (records, where the
 * walk stopped, the captured length of a rejected record or -1). It stops when the outputs
 * are full, when the next record does not fit in buf[:n], or at a rejected length. */
static PyObject *walk_pcap(PyObject *self, PyObject *args)
{
    Py_buffer buf, o_off, o_cap, o_orig, o_ts;
    Py_ssize_t start, n, hdr_len;
    int big;
    long long max_caplen, ts_mult;
    if (!PyArg_ParseTuple(args, "y*nnpnLLw*w*w*w*", &buf, &start, &n, &big, &hdr_len, &max_caplen,
                          &ts_mult, &o_off, &o_cap, &o_orig, &o_ts))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t cap = o_off.len / 8;
    if (o_cap.len / 8 < cap || o_orig.len / 8 < cap || o_ts.len / 8 < cap) {
        PyErr_SetString(PyExc_ValueError, "_fastwalk.walk_pcap: output arrays differ in length");
        goto done;
    }
    if (n > buf.len || start < 0 || hdr_len < 16) {
        PyErr_SetString(PyExc_ValueError, "_fastwalk.walk_pcap: bad bounds");
        goto done;
    }
    {
        const uint8_t *p = (const uint8_t *)buf.buf;
        int64_t *offs = (int64_t *)o_off.buf, *caps = (int64_t *)o_cap.buf;
        int64_t *origs = (int64_t *)o_orig.buf, *tss = (int64_t *)o_ts.buf;
        Py_ssize_t off = start, k = 0;
        long long bad = -1;
        Py_BEGIN_ALLOW_THREADS
        while (k < cap && off + hdr_len <= n) {
            uint32_t cl = rd32(p + off + 8, big);
            if ((long long)cl > max_caplen) {
                bad = cl;
                break;
            }
            Py_ssize_t end = off + hdr_len + (Py_ssize_t)cl;
            if (end > n)
                break;
            offs[k] = off;
            caps[k] = cl;
            origs[k] = rd32(p + off + 12, big);
            tss[k] = (int64_t)rd32(p + off, big) * 1000000000LL +
                     (int64_t)rd32(p + off + 4, big) * ts_mult;
            k++;
            off = end;
        }
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("nnL", k, off, bad);
    }
done:
    PyBuffer_Release(&buf);
    PyBuffer_Release(&o_off);
    PyBuffer_Release(&o_cap);
    PyBuffer_Release(&o_orig);
    PyBuffer_Release(&o_ts);
    return result;
}

/* -- walk_pcapng -------------------------------------------------------------------------- */

/* walk_pcapng(buf, start, n, big, max_block, off, kind) -> (blocks, where it stopped)
 *
 * The packet blocks (enhanced 6, simple 3, obsolete 2) of one pcapng section in buf[:n] from
 * byte `start`, in the section's byte order: each one's offset and type, at most len(off) of
 * them. Other blocks are stepped over, except the ones reader.py's block loop must see
 * itself, where the walk stops without passing them: a section header (its byte order may
 * change), an interface description (it is parsed), a block with an impossible length (the
 * file is damaged there), and one that does not end inside buf[:n] (the next chunk has it). */
static PyObject *walk_pcapng(PyObject *self, PyObject *args)
{
    Py_buffer buf, o_off, o_kind;
    Py_ssize_t start, n;
    int big;
    long long max_block;
    if (!PyArg_ParseTuple(args, "y*nnpLw*w*", &buf, &start, &n, &big, &max_block, &o_off,
                          &o_kind))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t cap = o_off.len / 8;
    if (o_kind.len / 8 < cap || n > buf.len || start < 0) {
        PyErr_SetString(PyExc_ValueError, "_fastwalk.walk_pcapng: bad arguments");
        goto done;
    }
    {
        const uint8_t *p = (const uint8_t *)buf.buf;
        int64_t *offs = (int64_t *)o_off.buf, *kinds = (int64_t *)o_kind.buf;
        Py_ssize_t off = start, k = 0;
        Py_BEGIN_ALLOW_THREADS
        while (k < cap && off + 12 <= n) {
            uint32_t bt = rd32(p + off, big), bl = rd32(p + off + 4, big);
            if (bt == 0x0A0D0D0A || bt == 1 || bl < 12 || bl % 4 || (long long)bl > max_block ||
                off + (Py_ssize_t)bl > n)
                break; /* for the Python loop */
            if (bt == 6 || bt == 3 || bt == 2) {
                offs[k] = off;
                kinds[k] = bt;
                k++;
            }
            off += bl;
        }
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("nn", k, off);
    }
done:
    PyBuffer_Release(&buf);
    PyBuffer_Release(&o_off);
    PyBuffer_Release(&o_kind);
    return result;
}

/* -- decode ------------------------------------------------------------------------------- */

#define MAC_STP 0x0180C2000000ULL
#define MAC_CISCO 0x01000CCCCCCCULL
#define MAC_PVST 0x01000CCCCCCDULL
#define NONE_MAC (1ULL << 48)

enum {
    C_DST_MAC, C_SRC_MAC, C_N_TAGS, C_TPID, C_VID, C_ETYPE, C_IPVER, C_SRC_HI, C_SRC_LO,
    C_DST_HI, C_DST_LO, C_PROTO, C_SPORT, C_DPORT, C_FLAGS, C_ICMP, C_ARP_OP, C_ARP_SHA,
    C_ARP_SPA, C_FAST, N_DECODE
};
static const Py_ssize_t DECODE_SIZES[N_DECODE] = {8, 8, 1, 4, 4, 4, 1, 8, 8, 8, 8, 2, 4, 4, 2, 2,
                                                  4, 8, 8, 1};

static inline int is_tpid(unsigned t) { return t == 0x8100 || t == 0x88A8 || t == 0x9100; }

/* decode(buf, data_off, caplen, linktype, columns) -> frames left to the careful decoder
 *
 * decode.decode_batch's fast path, record by record: Ethernet with 0 or 1 tag, complete ARP
 * for IPv4 over Ethernet, IPv4 (not a fragment), IPv6 without extension headers,
 * TCP/UDP/ICMP, and any other ethertype from 0x0600 but LLDP. `columns` is the tuple of
 * arrays named in DECODE_SIZES' order (DecodedBatch's columns, then the fast mask); each
 * record gets the fast path's values, or the defaults and fast = 0 where the careful decoder
 * is to take it. Only bytes inside a record's captured length decide anything. */
static PyObject *decode(PyObject *self, PyObject *args)
{
    Py_buffer buf, b_off, b_cap, b_lt;
    PyObject *cols;
    if (!PyArg_ParseTuple(args, "y*y*y*y*O", &buf, &b_off, &b_cap, &b_lt, &cols))
        return NULL;
    Py_ssize_t n = b_off.len / 8;
    Bufs bs = {.n = 0};
    PyObject *result = NULL;
    if (need(&b_cap, n, 8, "caplen") < 0 || need(&b_lt, n, 4, "linktype") < 0)
        goto done;
    if (take(&bs, cols, N_DECODE, DECODE_SIZES, n) < 0)
        goto done;
    {
        const uint8_t *base = (const uint8_t *)buf.buf;
        const int64_t *offs = (const int64_t *)b_off.buf, *caps = (const int64_t *)b_cap.buf;
        const int32_t *lts = (const int32_t *)b_lt.buf;
        uint64_t *dst_mac = bs.b[C_DST_MAC].buf, *src_mac = bs.b[C_SRC_MAC].buf;
        int8_t *n_tags = bs.b[C_N_TAGS].buf, *ipver = bs.b[C_IPVER].buf;
        int32_t *tpid = bs.b[C_TPID].buf, *vid = bs.b[C_VID].buf, *etypes = bs.b[C_ETYPE].buf;
        uint64_t *src_hi = bs.b[C_SRC_HI].buf, *src_lo = bs.b[C_SRC_LO].buf;
        uint64_t *dst_hi = bs.b[C_DST_HI].buf, *dst_lo = bs.b[C_DST_LO].buf;
        int16_t *protos = bs.b[C_PROTO].buf, *flags = bs.b[C_FLAGS].buf, *icmp = bs.b[C_ICMP].buf;
        int32_t *sport = bs.b[C_SPORT].buf, *dport = bs.b[C_DPORT].buf;
        int32_t *arp_op = bs.b[C_ARP_OP].buf;
        uint64_t *arp_sha = bs.b[C_ARP_SHA].buf, *arp_spa = bs.b[C_ARP_SPA].buf;
        uint8_t *fast = bs.b[C_FAST].buf;
        Py_ssize_t slow = 0, buflen = buf.len;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t off = offs[i], cap = caps[i];
            int ok = 0;
            uint64_t dst = 0, src = 0, shi = 0, slo = 0, dhi = 0, dlo = 0, sha = 0, spa = 0;
            int tagged = 0, ver = 0, v4 = 0, v6 = 0;
            int32_t tp = -1, vd = -1, et = -1, sp = -1, dp = -1, op = -1;
            int16_t proto = -1, fl = -1, it = -1;
            if (lts[i] == 1 && cap >= 14 && off >= 0 && off + cap <= buflen) {
                const uint8_t *p = base + off;
                dst = be48(p);
                src = be48(p + 6);
                unsigned t1 = be16(p + 12), etype = t1;
                int64_t rel3 = 14;
                ok = 1;
                if (is_tpid(t1)) {
                    tagged = 1;
                    if (cap < 18 || is_tpid(be16(p + 16)))
                        ok = 0;
                    else {
                        etype = be16(p + 16);
                        rel3 = 18;
                    }
                }
                if (dst == MAC_STP || dst == MAC_PVST || dst == MAC_CISCO)
                    ok = 0;
                int64_t avail = cap - rel3, l4 = 0, l4end = 0;
                const uint8_t *l3 = p + rel3;
                if (ok) {
                    if (etype == 0x0800) {
                        unsigned b0 = avail >= 20 ? l3[0] : 0, ihl = (b0 & 0x0F) * 4;
                        if (avail < 20 || (b0 >> 4) != 4 || ihl < 20 || avail < ihl ||
                            (be16(l3 + 6) & 0x3FFF))
                            ok = 0; /* bad, cut short, or a fragment */
                        else {
                            v4 = 1;
                            unsigned total = be16(l3 + 2);
                            proto = l3[9];
                            slo = be32(l3 + 12);
                            dlo = be32(l3 + 16);
                            l4 = rel3 + ihl;
                            l4end = total >= ihl ? (cap < rel3 + total ? cap : rel3 + total) : cap;
                        }
                    } else if (etype == 0x86DD) {
                        unsigned nh = avail >= 40 ? l3[6] : 0;
                        if (avail < 40 || (l3[0] >> 4) != 6 || nh == 0 || nh == 43 || nh == 44 ||
                            nh == 51 || nh == 60)
                            ok = 0;
                        else {
                            v6 = 1;
                            proto = (int16_t)nh;
                            shi = be64(l3 + 8);
                            slo = be64(l3 + 16);
                            dhi = be64(l3 + 24);
                            dlo = be64(l3 + 32);
                            l4 = rel3 + 40;
                            int64_t e = rel3 + 40 + be16(l3 + 4);
                            l4end = cap < e ? cap : e;
                        }
                    } else if (etype == 0x0806) {
                        if (avail < 28 || be48(l3) != 0x000108000604ULL)
                            ok = 0;
                        else {
                            op = be16(l3 + 6);
                            sha = be48(l3 + 8);
                            spa = be32(l3 + 14);
                        }
                    } else if (etype < 0x0600 || etype == 0x88CC)
                        ok = 0;
                }
                if (ok && (v4 || v6)) {
                    int64_t room = l4end - l4;
                    const uint8_t *q = p + l4;
                    if (proto == 6) {
                        if (room < 14)
                            ok = 0;
                        else {
                            sp = be16(q);
                            dp = be16(q + 2);
                            fl = (int16_t)(be16(q + 12) & 0x1FF);
                        }
                    } else if (proto == 17) {
                        if (room < 8)
                            ok = 0;
                        else {
                            sp = be16(q);
                            dp = be16(q + 2);
                            if ((sp == 67 || sp == 68) && (dp == 67 || dp == 68))
                                ok = 0; /* DHCP: the careful decoder reads its type */
                        }
                    } else if ((proto == 1 && v4) || (proto == 58 && v6)) {
                        if (room < 4)
                            ok = 0;
                        else {
                            it = q[0];
                            if (v6 ? ((it >= 133 && it <= 137) || (it >= 1 && it <= 4))
                                   : (it == 3 || it == 11 || it == 12))
                                ok = 0; /* neighbour discovery, ICMP errors */
                        }
                    }
                }
                if (ok) {
                    et = (int32_t)etype;
                    if (tagged) {
                        tp = (int32_t)t1;
                        vd = be16(p + 14) & 0x0FFF;
                    }
                    ver = v4 ? 4 : v6 ? 6 : 0;
                }
            }
            if (ok) {
                dst_mac[i] = dst;
                src_mac[i] = src;
                n_tags[i] = (int8_t)tagged;
                tpid[i] = tp;
                vid[i] = vd;
                etypes[i] = et;
                ipver[i] = (int8_t)ver;
                src_hi[i] = shi;
                src_lo[i] = slo;
                dst_hi[i] = dhi;
                dst_lo[i] = dlo;
                protos[i] = ver ? proto : -1;
                sport[i] = sp;
                dport[i] = dp;
                flags[i] = fl;
                icmp[i] = it;
                arp_op[i] = op;
                arp_sha[i] = op >= 0 ? sha : NONE_MAC;
                arp_spa[i] = op >= 0 ? spa : 0;
            } else {
                dst_mac[i] = NONE_MAC;
                src_mac[i] = NONE_MAC;
                n_tags[i] = 0;
                tpid[i] = -1;
                vid[i] = -1;
                etypes[i] = -1;
                ipver[i] = 0;
                src_hi[i] = src_lo[i] = dst_hi[i] = dst_lo[i] = 0;
                protos[i] = -1;
                sport[i] = dport[i] = -1;
                flags[i] = -1;
                icmp[i] = -1;
                arp_op[i] = -1;
                arp_sha[i] = NONE_MAC;
                arp_spa[i] = 0;
                slow++;
            }
            fast[i] = (uint8_t)ok;
        }
        Py_END_ALLOW_THREADS
        result = PyLong_FromSsize_t(slow);
    }
done:
    release(&bs);
    PyBuffer_Release(&buf);
    PyBuffer_Release(&b_off);
    PyBuffer_Release(&b_cap);
    PyBuffer_Release(&b_lt);
    return result;
}

/* -- frame_keys --------------------------------------------------------------------------- */

enum {
    K_SPORT, K_DPORT, K_SRC_MAC, K_DST_MAC, K_SRC_HI, K_SRC_LO, K_DST_HI, K_DST_LO, K_IPVER,
    K_ETYPE, K_VID, K_PROTO, K_LUT, N_KEY_IN
};
static const Py_ssize_t KEY_IN_SIZES[N_KEY_IN] = {4, 4, 8, 8, 8, 8, 8, 8, 1, 4, 4, 2, 0};
enum { K_COLS, K_DIR, K_DECIDED, K_OTHER, N_KEY_OUT };
#define PACKED 7
#define DYNAMIC_PORTS 32768

/* frame_keys(inputs, outputs): conversations._frame_keys for every frame. `inputs`: sport,
 * dport, src_mac, dst_mac, src_hi, src_lo, dst_hi, dst_lo, ipver, ethertype, outer_vid, proto
 * (the DecodedBatch columns) and the service-port table (65,536 bools); `outputs`: the packed
 * key words (7 rows of n), the direction (int64), whether the ports decided the server
 * (bool) and the client port (int64). */
static PyObject *frame_keys(PyObject *self, PyObject *args)
{
    PyObject *ins, *outs;
    if (!PyArg_ParseTuple(args, "OO", &ins, &outs))
        return NULL;
    if (!PyTuple_Check(ins) || PyTuple_GET_SIZE(ins) != N_KEY_IN || !PyTuple_Check(outs) ||
        PyTuple_GET_SIZE(outs) != N_KEY_OUT) {
        PyErr_SetString(PyExc_TypeError, "_fastwalk.frame_keys: wrong arguments");
        return NULL;
    }
    Py_buffer bi[N_KEY_IN], bo[N_KEY_OUT];
    int got_i = 0, got_o = 0;
    PyObject *result = NULL;
    for (; got_i < N_KEY_IN; got_i++)
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(ins, got_i), &bi[got_i], PyBUF_C_CONTIGUOUS) < 0)
            goto done;
    for (; got_o < N_KEY_OUT; got_o++)
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(outs, got_o), &bo[got_o],
                               PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
            goto done;
    Py_ssize_t n = bi[K_SPORT].len / 4;
    for (int i = 0; i < N_KEY_IN - 1; i++)
        if (need(&bi[i], n, KEY_IN_SIZES[i], "a key column") < 0)
            goto done;
    if (need(&bi[K_LUT], 65536, 1, "the service-port table") < 0 ||
        need(&bo[K_COLS], n * PACKED, 8, "the key words") < 0 ||
        need(&bo[K_DIR], n, 8, "direction") < 0 || need(&bo[K_DECIDED], n, 1, "decided") < 0 ||
        need(&bo[K_OTHER], n, 8, "other") < 0)
        goto done;
    {
        const int32_t *sps = bi[K_SPORT].buf, *dps = bi[K_DPORT].buf;
        const uint64_t *smacs = bi[K_SRC_MAC].buf, *dmacs = bi[K_DST_MAC].buf;
        const uint64_t *shis = bi[K_SRC_HI].buf, *slos = bi[K_SRC_LO].buf;
        const uint64_t *dhis = bi[K_DST_HI].buf, *dlos = bi[K_DST_LO].buf;
        const int8_t *vers = bi[K_IPVER].buf;
        const int32_t *etypes = bi[K_ETYPE].buf, *vids = bi[K_VID].buf;
        const int16_t *protos = bi[K_PROTO].buf;
        const uint8_t *lut = bi[K_LUT].buf;
        uint64_t *cols = bo[K_COLS].buf;
        int64_t *dirs = bo[K_DIR].buf, *others = bo[K_OTHER].buf;
        uint8_t *decs = bo[K_DECIDED].buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t sp = sps[i], dp = dps[i];
            int has_ports = sp >= 0;
            int lo_s = sp < 1024, lo_d = dp < 1024;
            int dyn_s = sp >= DYNAMIC_PORTS, dyn_d = dp >= DYNAMIC_PORTS;
            int kn_s = lut[sp & 0xFFFF] != 0, kn_d = lut[dp & 0xFFFF] != 0;
            int server_is_dst = lo_s != lo_d     ? lo_d
                                : dyn_s != dyn_d ? dyn_s
                                : kn_s != kn_d   ? kn_d
                                                 : dp < sp;
            int decided = (lo_s != lo_d) || (dyn_s != dyn_d);
            uint64_t smac = smacs[i], dmac = dmacs[i], shi = shis[i], slo = slos[i];
            uint64_t dhi = dhis[i], dlo = dlos[i];
            int src_greater = smac > dmac || (smac == dmac && (shi > dhi || (shi == dhi && slo > dlo)));
            int distinct = has_ports && sp != dp;
            int swap = distinct ? !server_is_dst : src_greater;
            int64_t port = has_ports ? (server_is_dst ? dp : sp) : -1;
            int64_t other = has_ports ? (server_is_dst ? sp : dp) : -1;
            int64_t ver = vers[i];
            int64_t etype = ver > 0 ? -1 : (int64_t)etypes[i];
            int64_t vid = vids[i];
            if (vid == 0)
                vid = -1; /* an 802.1p priority tag is no VLAN */
            cols[i] = (uint64_t)((vid + 1) | ((ver + 1) << 13) | (((int64_t)protos[i] + 1) << 16) |
                                 ((port + 1) << 25) | ((etype + 1) << 42));
            cols[n + i] = swap ? dmac : smac;
            cols[2 * n + i] = swap ? smac : dmac;
            cols[3 * n + i] = swap ? dhi : shi;
            cols[4 * n + i] = swap ? dlo : slo;
            cols[5 * n + i] = swap ? shi : dhi;
            cols[6 * n + i] = swap ? slo : dlo;
            dirs[i] = swap;
            decs[i] = (uint8_t)(distinct && decided);
            others[i] = other;
        }
        Py_END_ALLOW_THREADS
        result = Py_None;
        Py_INCREF(result);
    }
done:
    for (int i = 0; i < got_i; i++)
        PyBuffer_Release(&bi[i]);
    for (int i = 0; i < got_o; i++)
        PyBuffer_Release(&bo[i]);
    return result;
}

/* -- assign: frames to rows, through an open-addressing table ---------------------------- */

/* A 64-bit hash of a key's words, finished with MurmurHash3's fmix64 so that the low bits
 * (which pick the slot) depend on every bit of every word. */
static inline uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash_key(const uint64_t *cols, Py_ssize_t n, Py_ssize_t i)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int w = 0; w < PACKED; w++)
        h = (h ^ cols[w * n + i]) * 0x9E3779B97F4A7C15ULL;
    return fmix(h);
}

static inline uint64_t hash_row(const uint64_t *key)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int w = 0; w < PACKED; w++)
        h = (h ^ key[w]) * 0x9E3779B97F4A7C15ULL;
    return fmix(h);
}

#define LOOKAHEAD 16
#define RING 32 /* a power of two above LOOKAHEAD */

static inline void put(int32_t *slots, uint64_t mask, uint64_t h, int32_t row)
{
    uint64_t s = h & mask;
    while (slots[s] >= 0)
        s = (s + 1) & mask;
    slots[s] = row;
}

/* index(slots, key_rows, start, stop): enter rows start..stop-1 (their packed keys in
 * key_rows, PACKED words each) into the slot table (a power of two of int32, -1: free). */
static PyObject *index_rows(PyObject *self, PyObject *args)
{
    Py_buffer b_slots, b_keys;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "w*y*nn", &b_slots, &b_keys, &start, &stop))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t size = b_slots.len / 4;
    if ((size & (size - 1)) || size < 2 * stop || start < 0 ||
        need(&b_keys, stop * PACKED, 8, "key rows") < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "_fastwalk.index: bad slot table");
        goto done;
    }
    {
        int32_t *slots = b_slots.buf;
        const uint64_t *keys = b_keys.buf;
        for (Py_ssize_t r = start; r < stop; r++)
            put(slots, (uint64_t)size - 1, hash_row(keys + r * PACKED), (int32_t)r);
        result = Py_None;
        Py_INCREF(result);
    }
done:
    PyBuffer_Release(&b_slots);
    PyBuffer_Release(&b_keys);
    return result;
}

/* assign(cols, use, slots, key_rows, rows_known, start, rows, new_at) -> (stop, added)
 *
 * The row of every used frame from `start` on (unused ones get -1), by the exact key: a
 * frame with the same key words as the previous used frame (a burst) takes its row, others
 * are looked up in the slot table and compared word by word with the row's stored key. A
 * key not there becomes row rows_known + added: its words are copied to key_rows, it enters
 * the slot table, and the frame's index goes to new_at (so new rows come in order of first
 * frame, as the numpy path adds them). Stops early (returning the first frame not done) when
 * the table would pass half full or key_rows is full: the caller grows them and resumes. */
static PyObject *assign(PyObject *self, PyObject *args)
{
    Py_buffer b_cols, b_use, b_slots, b_keys, b_rows, b_new;
    Py_ssize_t known, start;
    if (!PyArg_ParseTuple(args, "y*y*w*w*nnw*w*", &b_cols, &b_use, &b_slots, &b_keys, &known,
                          &start, &b_rows, &b_new))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = b_use.len, size = b_slots.len / 4, room = b_keys.len / (8 * PACKED);
    if ((size & (size - 1)) || size == 0 || known > room || need(&b_cols, n * PACKED, 8, "keys") < 0 ||
        need(&b_rows, n, 8, "rows") < 0 || need(&b_new, n, 8, "new_at") < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "_fastwalk.assign: bad tables");
        goto done;
    }
    {
        const uint64_t *cols = b_cols.buf;
        const uint8_t *use = b_use.buf;
        int32_t *slots = b_slots.buf;
        uint64_t *keys = b_keys.buf, mask = (uint64_t)size - 1;
        int64_t *rows = b_rows.buf, *new_at = b_new.buf;
        Py_ssize_t added = 0, i = start, prev = -1;
        int64_t prev_row = -1;
        /* Hashes of the frames ahead, so their slots and key rows are fetched from memory
         * while earlier frames are looked up (LOOKAHEAD frames ahead for the slot, half as
         * far for the key row the slot names): one lookup's cache misses overlap others'. */
        uint64_t ring[RING];
        for (Py_ssize_t j = start; j < n && j < start + LOOKAHEAD; j++)
            ring[j & (RING - 1)] = hash_key(cols, n, j);
        Py_BEGIN_ALLOW_THREADS
        for (; i < n; i++) {
            Py_ssize_t ahead = i + LOOKAHEAD, near = i + LOOKAHEAD / 2;
            if (ahead < n) {
                uint64_t h = hash_key(cols, n, ahead);
                ring[ahead & (RING - 1)] = h;
                PREFETCH(&slots[h & mask]);
            }
            if (near < n) {
                int32_t r = slots[ring[near & (RING - 1)] & mask];
                if (r >= 0)
                    PREFETCH(keys + (Py_ssize_t)r * PACKED);
            }
            if (!use[i]) {
                rows[i] = -1;
                continue;
            }
            if (prev >= 0) {
                int same = 1;
                for (int w = 0; w < PACKED && same; w++)
                    same = cols[w * n + i] == cols[w * n + prev];
                if (same) {
                    rows[i] = prev_row;
                    prev = i;
                    continue;
                }
            }
            uint64_t s = ring[i & (RING - 1)] & mask;
            int64_t row = -1;
            for (;;) {
                int32_t r = slots[s];
                if (r < 0)
                    break;
                const uint64_t *k = keys + (Py_ssize_t)r * PACKED;
                int same = 1;
                for (int w = 0; w < PACKED && same; w++)
                    same = k[w] == cols[w * n + i];
                if (same) {
                    row = r;
                    break;
                }
                s = (s + 1) & mask;
            }
            if (row < 0) {
                Py_ssize_t r = known + added;
                if (2 * (r + 1) > size || r >= room)
                    break; /* full: the caller grows the tables and calls again from i */
                uint64_t *k = keys + r * PACKED;
                for (int w = 0; w < PACKED; w++)
                    k[w] = cols[w * n + i];
                slots[s] = (int32_t)r;
                new_at[added++] = i;
                row = r;
            }
            rows[i] = row;
            prev = i;
            prev_row = row;
        }
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("nn", i, added);
    }
done:
    PyBuffer_Release(&b_cols);
    PyBuffer_Release(&b_use);
    PyBuffer_Release(&b_slots);
    PyBuffer_Release(&b_keys);
    PyBuffer_Release(&b_rows);
    PyBuffer_Release(&b_new);
    return result;
}

/* -- aggregate ---------------------------------------------------------------------------- */

enum { A_ROWS, A_DIR, A_DECIDED, A_OTHER, A_ORIGLEN, A_TS, A_FRAME, A_FLAGS, N_AGG_IN };
static const Py_ssize_t AGG_IN_SIZES[N_AGG_IN] = {8, 8, 1, 8, 8, 8, 8, 2};
enum {
    T_FRAMES, T_BYTES, T_TS_FIRST, T_TS_LAST, T_FIRST_ORDER, T_FIRST_DIR, T_OTHER_PORT,
    T_PORT_DECIDED, T_SYN_ORDER, T_SYN_DIR, T_SAMPLES, N_TABLE
};
#define SAMPLES 5
#define FRAME_BITS 40

/* aggregate(inputs, table, file_index, rows_known): fold each frame with a row (>= 0) into the
 * table's columns, exactly as ConversationTable.add_batch's numpy code does: frames and bytes
 * per direction, first and last time, the first frame's order key, direction and client
 * port, whether ports decided the server, the first SYN's order key and direction, and the
 * five lowest order keys. Frames come in capture order (frame numbers increase). */
static PyObject *aggregate(PyObject *self, PyObject *args)
{
    PyObject *ins, *tab;
    long long file_index;
    Py_ssize_t m;
    if (!PyArg_ParseTuple(args, "OOLn", &ins, &tab, &file_index, &m))
        return NULL;
    static const Py_ssize_t TABLE_SIZES[N_TABLE] = {16, 16, 8, 8, 8, 1, 8, 1, 8, 1, 8 * SAMPLES};
    Bufs bt = {.n = 0};
    Py_buffer bi[N_AGG_IN];
    int got = 0;
    PyObject *result = NULL;
    if (!PyTuple_Check(ins) || PyTuple_GET_SIZE(ins) != N_AGG_IN) {
        PyErr_SetString(PyExc_TypeError, "_fastwalk.aggregate: wrong inputs");
        return NULL;
    }
    for (; got < N_AGG_IN; got++)
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(ins, got), &bi[got], PyBUF_C_CONTIGUOUS) < 0)
            goto done;
    Py_ssize_t n = bi[A_ROWS].len / 8;
    for (int i = 0; i < N_AGG_IN; i++)
        if (need(&bi[i], n, AGG_IN_SIZES[i], "an input column") < 0)
            goto done;
    if (take(&bt, tab, N_TABLE, TABLE_SIZES, m) < 0)
        goto done;
    {
        const int64_t *rows = bi[A_ROWS].buf, *dirs = bi[A_DIR].buf, *others = bi[A_OTHER].buf;
        const uint8_t *decs = bi[A_DECIDED].buf;
        const int64_t *olen = bi[A_ORIGLEN].buf, *ts = bi[A_TS].buf, *fno = bi[A_FRAME].buf;
        const int16_t *fls = bi[A_FLAGS].buf;
        int64_t *frames = bt.b[T_FRAMES].buf, *bytes = bt.b[T_BYTES].buf;
        int64_t *ts_first = bt.b[T_TS_FIRST].buf, *ts_last = bt.b[T_TS_LAST].buf;
        int64_t *first_order = bt.b[T_FIRST_ORDER].buf, *other_port = bt.b[T_OTHER_PORT].buf;
        int8_t *first_dir = bt.b[T_FIRST_DIR].buf, *syn_dir = bt.b[T_SYN_DIR].buf;
        uint8_t *port_decided = bt.b[T_PORT_DECIDED].buf;
        int64_t *syn_order = bt.b[T_SYN_ORDER].buf, *samples = bt.b[T_SAMPLES].buf;
        int64_t base = (int64_t)file_index << FRAME_BITS;
        int bad = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t r = rows[i];
            if (r < 0)
                continue;
            if (r >= m) {
                bad = 1;
                break;
            }
            int64_t d = dirs[i] != 0, okey = base | fno[i], t = ts[i];
            frames[2 * r + d] += 1;
            bytes[2 * r + d] += olen[i];
            if (t < ts_first[r])
                ts_first[r] = t;
            if (t > ts_last[r])
                ts_last[r] = t;
            if (okey < first_order[r]) {
                first_order[r] = okey;
                first_dir[r] = (int8_t)d;
                other_port[r] = others[i];
            }
            if (decs[i])
                port_decided[r] = 1;
            int16_t f = fls[i];
            if (f >= 0 && (f & 0x02) && okey < syn_order[r]) {
                /* a SYN names its sender the initiator, a SYN-ACK its receiver */
                syn_order[r] = okey;
                syn_dir[r] = (int8_t)(d ^ ((f & 0x10) != 0));
            }
            int64_t *s = samples + r * SAMPLES;
            if (okey < s[SAMPLES - 1]) {
                int j = SAMPLES - 1;
                while (j > 0 && s[j - 1] > okey) {
                    s[j] = s[j - 1];
                    j--;
                }
                s[j] = okey;
            }
        }
        Py_END_ALLOW_THREADS
        if (bad)
            PyErr_SetString(PyExc_ValueError, "_fastwalk.aggregate: a row beyond the table");
        else {
            result = Py_None;
            Py_INCREF(result);
        }
    }
done:
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&bi[i]);
    release(&bt);
    return result;
}

static PyMethodDef methods[] = {
    {"walk_pcap", walk_pcap, METH_VARARGS, "Walk pcap records (see _fastwalk.c)."},
    {"walk_pcapng", walk_pcapng, METH_VARARGS, "Walk pcapng packet blocks (see _fastwalk.c)."},
    {"decode", decode, METH_VARARGS, "The fast path of decode_batch (see _fastwalk.c)."},
    {"frame_keys", frame_keys, METH_VARARGS, "conversations._frame_keys (see _fastwalk.c)."},
    {"index", index_rows, METH_VARARGS, "Enter rows into a slot table (see _fastwalk.c)."},
    {"assign", assign, METH_VARARGS, "Frames to conversation rows (see _fastwalk.c)."},
    {"aggregate", aggregate, METH_VARARGS, "Fold frames into rows (see _fastwalk.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastwalk",
                                    "The capture hot path's compiled kernel (optional).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__fastwalk(void) { return PyModule_Create(&module); }

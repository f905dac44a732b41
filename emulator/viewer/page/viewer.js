/* SPDX-License-Identifier: MIT */
/*
 * bucketbridge live event viewer. Plain JavaScript, no build step, no
 * third-party code; served by the daemon from files embedded at build time.
 *
 * Data shown on the page comes from users (object keys, event details), so
 * it only ever reaches the DOM through textContent or attribute setters:
 * never innerHTML.
 */
'use strict';

(function () {
    const MAX_ROWS = 20000; /* the table keeps the newest events; older ones drop off */
    const ROW_H = 26; /* px; keep in step with --row-h in viewer.css */
    const OVERSCAN = 8;
    const RECENT = 1000; /* "last 1,000 events" start position */
    const RATE_WINDOW_S = 180;
    const LEGEND_MAX = 8; /* legend entries (two columns of four) */
    const STATUS_MS = 1000;
    const HEALTH_MS = 5000;
    const RETRY_MAX_MS = 5000;
    const PRESIGN_EXPIRES_S = 86400;
    const BUCKET_TILES = 60;
    const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const IMAGE_RE = /\.(jpe?g|png|gif|webp|bmp|avif|svg)$/i;
    const S3_TYPES = ['Object Created', 'Object Deleted', 'Object Restore Initiated',
        'Object Restore Completed', 'Object Restore Expired', 'Object Tags Added',
        'Object Tags Deleted', 'Object ACL Updated', 'Object Storage Class Changed',
        'Object Access Tier Changed'];
    const PALETTE = ['#2f9e6e', '#d9534f', '#3b82c4', '#d98b1e', '#8e5cc2', '#1fa2a8',
        '#c2548f', '#7a8b2a', '#5f6fd1', '#a0643b'];
    const FIXED_COLORS = {'Object Created': 0, 'Object Deleted': 1};

    const $ = (id) => document.getElementById(id);

    /* An element with a class and text (text goes through textContent). */
    function el(tag, cls, text) {
        const e = document.createElement(tag);
        if (cls)
            e.className = cls;
        if (text !== undefined && text !== null)
            e.textContent = String(text);
        return e;
    }

    function fmtSize(n) {
        if (typeof n !== 'number' || !isFinite(n))
            return '';
        if (n < 1024)
            return n + ' B';
        const u = ['KB', 'MB', 'GB', 'TB'];
        let v = n / 1024, i = 0;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + u[i];
    }

    const clockFmt = new Intl.DateTimeFormat([], {hour: '2-digit', minute: '2-digit',
        second: '2-digit', hour12: false});
    const clockMemo = {iso: null, text: ''};

    /* Event times have whole seconds and come in runs: remember the last one. */
    function fmtClock(iso) {
        if (iso === clockMemo.iso)
            return clockMemo.text;
        const d = new Date(iso);
        clockMemo.iso = iso;
        clockMemo.text = isNaN(d) ? String(iso || '') : clockFmt.format(d);
        return clockMemo.text;
    }

    /* A colour per detail-type: fixed for the common S3 ones, then in order
     * of first appearance, so the types on screen rarely share one. */
    const typeColors = new Map();

    function colorOf(type) {
        if (type in FIXED_COLORS)
            return PALETTE[FIXED_COLORS[type]];
        let c = typeColors.get(type);
        if (!c) {
            c = PALETTE[2 + (typeColors.size % (PALETTE.length - 2))];
            typeColors.set(type, c);
        }
        return c;
    }

    /* S3 keys in events are form-encoded unless the daemon says "raw". */
    function decodeKey(k) {
        if (typeof k !== 'string')
            return '';
        if (state.cfg && state.cfg.key_encoding === 'raw')
            return k;
        try {
            return decodeURIComponent(k.replace(/\+/g, ' '));
        } catch (e) {
            return k;
        }
    }

    function encodeKeyForm(k) {
        let out = '';
        for (const b of new TextEncoder().encode(k)) {
            const c = String.fromCharCode(b);
            if (/[A-Za-z0-9\-._~/]/.test(c))
                out += c;
            else if (c === ' ')
                out += '+';
            else
                out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
        }
        return out;
    }

    function isPlainObject(v) {
        return v !== null && typeof v === 'object' && !Array.isArray(v);
    }

    function toast(text, kind) {
        const t = el('div', 'toast' + (kind ? ' ' + kind : ''), text);
        $('toasts').appendChild(t);
        setTimeout(() => t.classList.add('going'), 3800);
        setTimeout(() => t.remove(), 4300);
    }

    async function copyText(text, what) {
        try {
            await navigator.clipboard.writeText(text);
        } catch (e) {
            const ta = el('textarea');
            ta.value = text;
            document.body.appendChild(ta);
            ta.select();
            document.execCommand('copy');
            ta.remove();
        }
        toast('Copied ' + what);
    }

    async function fetchJSON(url, opts) {
        const r = await fetch(url, Object.assign({cache: 'no-store'}, opts || {}));
        const body = await r.text();
        let j = null;
        try {
            j = JSON.parse(body);
        } catch (e) {
            /* not JSON */
        }
        if (!r.ok)
            throw new Error((j && j.error) || ('HTTP ' + r.status));
        return j;
    }

    /* ---- state ---- */

    const state = {
        cfg: null,
        ws: null,
        attempt: 0,
        retryTimer: null,
        retryAt: 0,
        everConnected: false,
        subCounter: 0,
        subId: null,      /* the subscription whose events we show */
        pendingSub: null, /* {id, filter, clear} sent, not yet confirmed */
        applied: {pattern: null, from: 'recent', label: 'none'},
        lastSeq: null,    /* last sequence seen (or confirmed as a start) */
        paused: false,
        buffer: [],
        bufferDropped: 0,
        received: 0,
        selectedSeq: null,
        newAbove: 0,
        types: new Set(S3_TYPES),
        buckets: [],
        rules: [],
        status: null,
        consumers: null,
        dlqOpen: new Set(),
        staleBuckets: new Set(),
        detailToken: 0,
        detailRow: null,
    };

    /* ---- the bounded store of rows: a ring, index 0 = newest ---- */

    const ring = {buf: new Array(MAX_ROWS), head: 0, size: 0, dropped: 0, pushes: 0};

    function ringPush(row) {
        ring.buf[ring.head] = row;
        ring.head = (ring.head + 1) % MAX_ROWS;
        if (ring.size < MAX_ROWS)
            ring.size++;
        else
            ring.dropped++;
        ring.pushes++;
    }

    function ringAt(i) {
        return ring.buf[(ring.head - 1 - i + MAX_ROWS * 2) % MAX_ROWS];
    }

    function ringClear() {
        ring.buf = new Array(MAX_ROWS);
        ring.head = ring.size = ring.dropped = 0;
        ring.pushes = 0;
    }

    /* Index of the row with @seq (rows are in sequence order), or -1. */
    function ringIndexOf(seq) {
        let lo = 0, hi = ring.size - 1;
        while (lo <= hi) {
            const mid = (lo + hi) >> 1;
            const s = ringAt(mid).seq;
            if (s === seq)
                return mid;
            if (s > seq)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return -1;
    }

    /* ---- SigV4 with WebCrypto ---- */

    const enc = new TextEncoder();
    const keyCache = new Map();
    const presignCache = new Map();

    function hex(buf) {
        return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
    }

    async function sha256Hex(data) {
        const bytes = typeof data === 'string' ? enc.encode(data) : data;
        return hex(await crypto.subtle.digest('SHA-256', bytes));
    }

    async function hmac(key, msg) {
        const k = await crypto.subtle.importKey('raw', key, {name: 'HMAC', hash: 'SHA-256'},
            false, ['sign']);
        return new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(msg)));
    }

    async function signingKey(date) {
        const cfg = state.cfg;
        const id = date + '/' + cfg.region + '/' + cfg.secret_key;
        let k = keyCache.get(id);
        if (!k) {
            k = await hmac(enc.encode('AWS4' + cfg.secret_key), date);
            k = await hmac(k, cfg.region);
            k = await hmac(k, 's3');
            k = await hmac(k, 'aws4_request');
            keyCache.clear();
            keyCache.set(id, k);
        }
        return k;
    }

    /* RFC 3986 encoding as SigV4 wants it; '/' kept when @keepSlash. */
    function uriEncode(s, keepSlash) {
        let v = encodeURIComponent(s).replace(/[!'()*]/g,
            (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
        if (keepSlash)
            v = v.replace(/%2F/g, '/');
        return v;
    }

    function objectPath(bucket, key) {
        if (!bucket)
            return '/';
        return '/' + uriEncode(bucket) + (key !== undefined ? '/' + uriEncode(key, true) : '');
    }

    function canonicalQuery(params) {
        return Object.keys(params || {})
            .map((k) => [uriEncode(k), uriEncode(String(params[k]))])
            .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
            .map((p) => p[0] + '=' + p[1]).join('&');
    }

    function amzDate(d) {
        return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }

    function requireCrypto() {
        if (!window.crypto || !crypto.subtle)
            throw new Error('WebCrypto is unavailable: open the viewer through localhost or ' +
                '127.0.0.1 so the page is a secure context');
    }

    /* A signed S3 request; resolves to the Response. */
    async function s3Fetch(method, bucket, key, query, body, headers) {
        const cfg = state.cfg;
        const path = objectPath(bucket, key);
        const qs = canonicalQuery(query);
        const url = path + (qs ? '?' + qs : '');
        const h = Object.assign({}, headers || {});
        if (cfg.auth) {
            requireCrypto();
            const ad = amzDate(new Date());
            const date = ad.slice(0, 8);
            const payload = body ? await sha256Hex(body) : EMPTY_SHA256;
            const signed = 'host;x-amz-content-sha256;x-amz-date';
            const creq = [method, path, qs,
                'host:' + location.host + '\nx-amz-content-sha256:' + payload +
                    '\nx-amz-date:' + ad + '\n',
                signed, payload].join('\n');
            const scope = date + '/' + cfg.region + '/s3/aws4_request';
            const sts = ['AWS4-HMAC-SHA256', ad, scope, await sha256Hex(creq)].join('\n');
            const sig = hex(await hmac(await signingKey(date), sts));
            h['x-amz-date'] = ad;
            h['x-amz-content-sha256'] = payload;
            h['Authorization'] = 'AWS4-HMAC-SHA256 Credential=' + cfg.access_key + '/' + scope +
                ', SignedHeaders=' + signed + ', Signature=' + sig;
        }
        return fetch(url, {method: method, headers: h, body: body || undefined, cache: 'no-store'});
    }

    /* A presigned GET URL for an object (cached per ETag). */
    async function presign(bucket, key, etag) {
        const cfg = state.cfg;
        const path = objectPath(bucket, key);
        if (!cfg.auth)
            return path + (etag ? '?v=' + encodeURIComponent(etag) : '');
        const id = bucket + '\n' + key + '\n' + (etag || '');
        const hit = presignCache.get(id);
        if (hit && hit.until > Date.now())
            return hit.url;
        requireCrypto();
        const now = new Date();
        const ad = amzDate(now);
        const date = ad.slice(0, 8);
        const scope = date + '/' + cfg.region + '/s3/aws4_request';
        const params = {
            'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
            'X-Amz-Credential': cfg.access_key + '/' + scope,
            'X-Amz-Date': ad,
            'X-Amz-Expires': String(PRESIGN_EXPIRES_S),
            'X-Amz-SignedHeaders': 'host',
        };
        const qs = canonicalQuery(params);
        const creq = ['GET', path, qs, 'host:' + location.host + '\n', 'host',
            'UNSIGNED-PAYLOAD'].join('\n');
        const sts = ['AWS4-HMAC-SHA256', ad, scope, await sha256Hex(creq)].join('\n');
        const sig = hex(await hmac(await signingKey(date), sts));
        const url = path + '?' + qs + '&X-Amz-Signature=' + sig;
        if (presignCache.size > 2000)
            presignCache.clear();
        presignCache.set(id, {url: url, until: Date.now() + (PRESIGN_EXPIRES_S - 600) * 1000});
        return url;
    }

    /* S3's <Error><Code/><Message/></Error>, as text. */
    async function s3ErrorText(resp) {
        const text = await resp.text();
        try {
            const doc = new DOMParser().parseFromString(text, 'application/xml');
            const code = doc.getElementsByTagName('Code')[0];
            const msg = doc.getElementsByTagName('Message')[0];
            if (code)
                return code.textContent + (msg ? ': ' + msg.textContent : '');
        } catch (e) {
            /* fall through */
        }
        return 'HTTP ' + resp.status;
    }

    function xmlText(node, tag) {
        const e = node.getElementsByTagName(tag)[0];
        return e ? e.textContent : '';
    }

    async function listBuckets() {
        const r = await s3Fetch('GET', null);
        if (!r.ok)
            throw new Error(await s3ErrorText(r));
        const doc = new DOMParser().parseFromString(await r.text(), 'application/xml');
        return Array.from(doc.getElementsByTagName('Bucket'), (b) => xmlText(b, 'Name'));
    }

    async function listObjects(bucket, prefix, maxKeys) {
        const q = {'list-type': '2', 'max-keys': String(maxKeys || 1000)};
        if (prefix)
            q.prefix = prefix;
        const r = await s3Fetch('GET', bucket, undefined, q);
        if (!r.ok)
            throw new Error(await s3ErrorText(r));
        const doc = new DOMParser().parseFromString(await r.text(), 'application/xml');
        const items = Array.from(doc.getElementsByTagName('Contents'), (c) => ({
            key: xmlText(c, 'Key'),
            size: Number(xmlText(c, 'Size')),
            modified: xmlText(c, 'LastModified'),
            etag: xmlText(c, 'ETag'),
        }));
        return {items: items, truncated: xmlText(doc, 'IsTruncated') === 'true'};
    }

    /* ---- thumbnails: which object in a thumbnails bucket belongs to a key ---- */

    function thumbBucketFor(bucket) {
        const names = state.buckets.length ? state.buckets : (state.cfg.buckets || []);
        if (/thumb/i.test(bucket))
            return null;
        return names.find((b) => b !== bucket && /thumb/i.test(b)) || null;
    }

    /* The part of a key a thumbnail shares with its original, whatever the
     * thumbnail consumer's naming: the same key, "thumbs/" or "128x128/" in
     * front, "-thumbnail" or "_256x256" behind, original -> thumbnail, and
     * another extension: "a/b.png", "128x128/a/b.jpg", "a/b-thumbnail.jpg"
     * all give "a/b". */
    function thumbStem(key) {
        return key.replace(/^(thumbs?|thumbnails?|\d+x\d+)\//i, '')
            .replace(/\.[^./]+$/, '')
            .replace(/([._-](thumb|thumbnail|small|\d+x\d+|w\d+))+$/i, '')
            .replace(/original|thumbnail/gi, '~');
    }

    async function findThumbnail(bucket, key) {
        const tb = thumbBucketFor(bucket);
        if (!tb)
            return null;
        const stem = thumbStem(key);
        const raw = key.replace(/\.[^./]+$/, '');
        /* the first 1,000 keys cover a local bucket; past that, likely prefixes */
        for (const prefix of ['', raw, 'thumbs/' + raw, 'thumbnails/' + raw]) {
            let res;
            try {
                res = await listObjects(tb, prefix, 1000);
            } catch (e) {
                return null;
            }
            const hit = res.items.find((o) => thumbStem(o.key) === stem);
            if (hit)
                return {bucket: tb, key: hit.key, etag: hit.etag, size: hit.size};
            if (!res.truncated)
                return null;
        }
        return null;
    }

    /* ---- connection ---- */

    function setConn(kind, text) {
        const c = $('conn');
        c.dataset.state = kind;
        $('conn-text').textContent = text;
    }

    function send(o) {
        if (state.ws && state.ws.readyState === WebSocket.OPEN)
            state.ws.send(JSON.stringify(o));
    }

    async function connect() {
        clearTimeout(state.retryTimer);
        state.retryTimer = null;
        setConn(state.everConnected ? 'down' : 'connecting',
            state.everConnected ? 'reconnecting…' : 'connecting…');
        let cfg;
        try {
            cfg = await fetchJSON('api/config');
        } catch (e) {
            scheduleReconnect();
            return;
        }
        const first = state.cfg === null;
        state.cfg = cfg;
        if (state.lastSeq !== null && cfg.last_sequence < state.lastSeq) {
            /* a new journal (another data dir): what we hold is from the old one */
            toast('The daemon has a new journal: starting over', 'bad');
            state.lastSeq = null;
        }
        $('version').textContent = 'v' + cfg.version;
        if (first)
            startPanels();
        else
            loadBuckets(); /* the daemon may have restarted with other buckets */
        const url = cfg.ws_url + (cfg.token ? '?token=' + encodeURIComponent(cfg.token) : '');
        let ws;
        try {
            ws = new WebSocket(url);
        } catch (e) {
            scheduleReconnect();
            return;
        }
        state.ws = ws;
        ws.onopen = () => {
            state.attempt = 0;
            state.everConnected = true;
            state.subId = null;
            state.pendingSub = null;
            setConn('live', 'live');
            subscribe(state.applied, state.lastSeq === null ? 'start' : 'resume');
            send({type: 'subscribe_status', interval_ms: STATUS_MS});
            send({type: 'status'});
            loadRules();
            pollHealth();
        };
        ws.onmessage = (m) => onMessage(m.data);
        ws.onclose = () => {
            if (state.ws !== ws)
                return;
            state.ws = null;
            scheduleReconnect();
        };
    }

    function scheduleReconnect() {
        state.attempt++;
        const base = Math.min(RETRY_MAX_MS, 500 * Math.pow(2, state.attempt - 1));
        const delay = Math.round(base * (0.8 + Math.random() * 0.4));
        state.retryAt = Date.now() + delay;
        clearTimeout(state.retryTimer);
        state.retryTimer = setTimeout(connect, delay);
        tickConn();
    }

    function tickConn() {
        if (state.ws || !state.retryTimer)
            return;
        const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
        setConn('down', (state.everConnected ? 'disconnected' : 'no daemon') +
            ' · retrying in ' + s + ' s');
    }

    /* ---- subscription and filters ---- */

    function startOf(filter, mode) {
        if (mode === 'resume')
            return state.lastSeq;
        const f = filter.from;
        if (f === 'earliest' || f === 'latest')
            return f;
        if (f === 'recent')
            return Math.max(0, journalLast() - RECENT);
        if (typeof f === 'number')
            return f;
        return f; /* a time string */
    }

    /* The journal's newest sequence, as far as we know. */
    function journalLast() {
        return Math.max(state.cfg.last_sequence || 0, (state.status && state.status.last_seq) || 0,
            state.lastSeq || 0);
    }

    /* mode: 'start' (clear, from the filter's start), 'resume' (after lastSeq,
     * keep rows) or 'restart' (a new filter: clear once confirmed). */
    function subscribe(filter, mode) {
        const id = 'v' + (++state.subCounter);
        const msg = {type: 'subscribe', id: id, from: startOf(filter, mode)};
        if (filter.pattern !== null)
            msg.pattern = filter.pattern;
        state.pendingSub = {id: id, filter: filter, clear: mode !== 'resume'};
        send(msg);
    }

    function onSubscribed(m) {
        const p = state.pendingSub;
        if (!p || m.id !== p.id) {
            /* a filter superseded before the daemon confirmed it: end it there too */
            if (m.id !== state.subId)
                send({type: 'unsubscribe', id: m.id});
            return;
        }
        state.pendingSub = null;
        if (state.subId && state.subId !== m.id)
            send({type: 'unsubscribe', id: state.subId});
        state.subId = m.id;
        const changed = p.filter !== state.applied;
        state.applied = p.filter;
        if (p.clear) {
            clearTable();
            rateClear();
            state.lastSeq = m.after;
        } else if (state.lastSeq === null || m.after > state.lastSeq) {
            state.lastSeq = m.after;
        }
        if (changed) {
            $('pattern-msg').hidden = true;
            $('pattern').classList.remove('invalid');
        }
        showFilterState();
    }

    function onError(m) {
        const p = state.pendingSub;
        if (p && m.ref === p.id) {
            state.pendingSub = null;
            const box = $('pattern-msg');
            box.textContent = m.message;
            box.hidden = false;
            $('pattern-box').hidden = false;
            $('f-pattern-toggle').setAttribute('aria-expanded', 'true');
            $('pattern').classList.add('invalid');
            $('filter-state').textContent = 'not applied: the previous filter is still in effect';
            $('filter-state').className = 'filter-state bad';
            return;
        }
        toast('daemon: ' + m.message, 'bad');
    }

    function quickPattern() {
        const p = {};
        const b = $('f-bucket').value;
        const t = $('f-type').value.trim();
        const k = $('f-prefix').value;
        if (t)
            p['detail-type'] = [t];
        if (b || k) {
            p.detail = {};
            if (b)
                p.detail.bucket = {name: [b]};
            if (k)
                p.detail.object = {key: [{prefix: encodeKeyForm(k)}]};
            if (!t && !p.source)
                p.source = ['aws.s3'];
        }
        return p;
    }

    function mergeInto(dst, src) {
        for (const k of Object.keys(src)) {
            if (isPlainObject(src[k]) && isPlainObject(dst[k]))
                mergeInto(dst[k], src[k]);
            else
                dst[k] = src[k];
        }
        return dst;
    }

    /* The pattern to send: an object, the raw editor text when it is not a
     * JSON object (the daemon explains what is wrong), or null for none. */
    function effectivePattern() {
        const text = $('pattern').value.trim();
        const quick = quickPattern();
        if (!text)
            return Object.keys(quick).length ? quick : null;
        let user;
        try {
            user = JSON.parse(text);
        } catch (e) {
            return text;
        }
        if (!isPlainObject(user))
            return text;
        return mergeInto(user, quick);
    }

    function readFrom() {
        const f = $('f-from').value;
        if (f === 'seq') {
            const n = Number($('f-from-seq').value);
            return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
        }
        if (f === 'time') {
            const v = $('f-from-time').value;
            const d = v ? new Date(v) : new Date(Date.now() - 3600 * 1000);
            return d.toISOString().slice(0, 19) + 'Z';
        }
        return f;
    }

    function fromLabel(f) {
        if (f === 'recent')
            return 'last ' + RECENT.toLocaleString() + ' events';
        if (f === 'earliest')
            return 'earliest';
        if (f === 'latest')
            return 'new events only';
        if (typeof f === 'number')
            return 'after #' + f;
        return 'since ' + new Date(f).toLocaleString();
    }

    function applyFilter() {
        const pattern = effectivePattern();
        const from = readFrom();
        const label = pattern === null ? 'none'
            : typeof pattern === 'string' ? 'pattern' : summarize(pattern);
        const filter = {pattern: pattern, from: from, label: label};
        if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
            /* offline: used (and validated) at the next connection */
            state.applied = filter;
            state.lastSeq = null;
            showFilterState();
            return;
        }
        $('filter-state').textContent = 'applying…';
        $('filter-state').className = 'filter-state';
        subscribe(filter, 'restart');
    }

    function summarize(p) {
        const parts = [];
        const walk = (o, path) => {
            for (const k of Object.keys(o)) {
                const v = o[k];
                const name = path ? path + '.' + k : k;
                if (isPlainObject(v))
                    walk(v, name);
                else
                    parts.push(name.replace(/^detail\./, '') + ' ' + JSON.stringify(v));
            }
        };
        walk(p, '');
        const s = parts.join(', ');
        return s.length > 90 ? s.slice(0, 89) + '…' : s;
    }

    function showFilterState() {
        const a = state.applied;
        const st = $('filter-state');
        st.className = 'filter-state' + (a.pattern !== null ? ' on' : '');
        st.textContent = (a.pattern !== null ? 'filter: ' + a.label : 'no filter') + ' · from ' +
            fromLabel(a.from);
        st.title = a.pattern === null ? '' : typeof a.pattern === 'string' ? a.pattern
            : JSON.stringify(a.pattern, null, 2);
    }

    /* ---- incoming messages ---- */

    function onMessage(data) {
        let m;
        try {
            m = JSON.parse(data);
        } catch (e) {
            return;
        }
        switch (m.type) {
        case 'event':
            onEvent(m, data);
            break;
        case 'subscribed':
            onSubscribed(m);
            break;
        case 'error':
            onError(m);
            break;
        case 'lagged':
            if (m.sub === state.subId) {
                state.lastSeq = Math.max(state.lastSeq || 0, m.resume_from);
                subscribe(state.applied, 'resume');
            }
            break;
        case 'status':
            state.status = m;
            if (Array.isArray(m.consumers))
                state.consumers = m.consumers;
            renderPipeline();
            break;
        default:
            break;
        }
    }

    /* The object an event is about: S3's {bucket: {name}, object: {key, size}}
     * (keys form-encoded), or the flat {bucket, key, size} of other sources
     * such as the thumbnail consumer's events (keys as they are). */
    function objectOf(d) {
        if (isPlainObject(d.bucket) || isPlainObject(d.object)) {
            const obj = isPlainObject(d.object) ? d.object : {};
            const bucket = isPlainObject(d.bucket) ? d.bucket.name : undefined;
            return {
                bucket: typeof bucket === 'string' ? bucket : '',
                key: typeof obj.key === 'string' ? decodeKey(obj.key) : '',
                size: typeof obj.size === 'number' ? obj.size : null,
            };
        }
        return {
            bucket: typeof d.bucket === 'string' ? d.bucket : '',
            key: typeof d.key === 'string' ? d.key : '',
            size: typeof d.size === 'number' ? d.size : null,
        };
    }

    function makeRow(seq, ev, raw) {
        const d = isPlainObject(ev.detail) ? ev.detail : {};
        const o = objectOf(d);
        return {
            seq: seq,
            time: ev.time || '',
            type: String(ev['detail-type'] || ''),
            source: String(ev.source || ''),
            bucket: o.bucket,
            key: o.key,
            size: o.size,
            reason: typeof d.reason === 'string' ? d.reason
                : typeof d['deletion-type'] === 'string' ? d['deletion-type'] : '',
            raw: raw,
        };
    }

    function onEvent(m, data) {
        if (m.sub !== state.subId || !isPlainObject(m.event))
            return;
        if (state.lastSeq !== null && m.seq <= state.lastSeq)
            return; /* already shown */
        const at = data.indexOf(',"event":');
        const raw = at > 0 ? data.slice(at + 9, data.length - 1) : JSON.stringify(m.event);
        const row = makeRow(m.seq, m.event, raw);
        state.lastSeq = Math.max(state.lastSeq || 0, m.seq);
        state.received++;
        rateAdd(row);
        if (row.type && !state.types.has(row.type)) {
            state.types.add(row.type);
            $('f-types').appendChild(el('option')).value = row.type;
        }
        if (row.bucket)
            bucketChanged(row.bucket);
        if (state.paused) {
            /* keep the newest MAX_ROWS; trimmed in bulk, not one shift per event */
            state.buffer.push(row);
            if (state.buffer.length >= 2 * MAX_ROWS) {
                const drop = state.buffer.length - MAX_ROWS;
                state.buffer.splice(0, drop);
                state.bufferDropped += drop;
            }
        } else {
            ringPush(row);
        }
        scheduleRender();
    }

    /* ---- the table ---- */

    let renderQueued = false;
    let renderedPushes = 0;
    const pool = [];

    function scheduleRender() {
        if (renderQueued)
            return;
        renderQueued = true;
        requestAnimationFrame(render);
    }

    function makeRowEl() {
        const r = el('div', 'row');
        r.setAttribute('role', 'row');
        for (const c of ['seq', 'time', 'type', 'source', 'bucket', 'key', 'size num', 'reason']) {
            const s = el('span', 'c-' + c);
            s.setAttribute('role', 'gridcell');
            r.appendChild(s);
        }
        const dot = el('i', 'tdot');
        r.children[2].appendChild(dot);
        r.children[2].appendChild(el('span'));
        r._row = null;
        $('grid').appendChild(r);
        return r;
    }

    function fillRowEl(r, row) {
        const c = r.children;
        c[0].textContent = row.seq;
        c[1].textContent = fmtClock(row.time);
        c[1].title = row.time;
        c[2].firstChild.style.background = colorOf(row.type);
        c[2].lastChild.textContent = row.type;
        c[2].title = row.type;
        c[3].textContent = row.source;
        c[3].title = row.source;
        c[4].textContent = row.bucket;
        c[4].title = row.bucket;
        c[5].textContent = row.key;
        c[5].title = row.key;
        c[6].textContent = row.size === null ? '' : fmtSize(row.size);
        c[6].title = row.size === null ? '' : row.size + ' bytes';
        c[7].textContent = row.reason;
        r._row = row;
    }

    function render() {
        renderQueued = false;
        const grid = $('grid');
        const added = ring.pushes - renderedPushes;
        renderedPushes = ring.pushes;
        const h = ring.size * ROW_H + 'px';
        if ($('grid-spacer').style.height !== h)
            $('grid-spacer').style.height = h;
        if (added > 0 && grid.scrollTop > ROW_H / 2) {
            /* the user scrolled away from the top: keep their rows in place */
            grid.scrollTop += added * ROW_H;
            state.newAbove += added;
        }
        if (grid.scrollTop <= ROW_H / 2)
            state.newAbove = 0;
        const pill = $('new-pill');
        if (pill.hidden !== (state.newAbove === 0))
            pill.hidden = state.newAbove === 0;
        if (state.newAbove)
            setText(pill, '↑ ' + state.newAbove.toLocaleString() + ' newer event' +
                (state.newAbove === 1 ? '' : 's'));
        if ($('grid-empty').hidden !== ring.size > 0)
            $('grid-empty').hidden = ring.size > 0;

        const first = Math.max(0, Math.floor(grid.scrollTop / ROW_H) - OVERSCAN);
        const count = Math.min(ring.size - first,
            Math.ceil(grid.clientHeight / ROW_H) + 2 * OVERSCAN);
        while (pool.length < count)
            pool.push(makeRowEl());
        for (let i = 0; i < pool.length; i++) {
            const r = pool[i];
            if (i >= count) {
                if (!r.hidden)
                    r.hidden = true;
                continue;
            }
            const row = ringAt(first + i);
            if (r._row !== row)
                fillRowEl(r, row);
            if (r.hidden)
                r.hidden = false;
            const y = (first + i) * ROW_H;
            if (r._y !== y) {
                r._y = y;
                r.style.transform = 'translateY(' + y + 'px)';
            }
            const sel = row.seq === state.selectedSeq;
            if (r._sel !== sel) {
                r._sel = sel;
                r.classList.toggle('sel', sel);
                r.setAttribute('aria-selected', sel ? 'true' : 'false');
            }
        }
        renderCounters();
    }

    /* Sets text only when it changed (no needless layout). */
    function setText(e, text) {
        if (e.textContent !== text)
            e.textContent = text;
    }

    function renderCounters() {
        setText($('count-total'), state.received.toLocaleString());
        setText($('count-seq'), state.lastSeq === null ? '—' : '#' + state.lastSeq);
        const dr = $('count-dropped');
        if (dr.hidden !== (ring.dropped === 0))
            dr.hidden = ring.dropped === 0;
        setText(dr, ring.dropped.toLocaleString() + ' older rows dropped from the table');
        const p = $('pause');
        const waiting = state.buffer.length + state.bufferDropped;
        setText(p, state.paused ? 'Resume' + (waiting
            ? ' (' + waiting.toLocaleString() + ' buffered)' : '') : 'Pause');
        if (p.classList.contains('paused') !== state.paused) {
            p.setAttribute('aria-pressed', state.paused ? 'true' : 'false');
            p.classList.toggle('paused', state.paused);
        }
    }

    function clearTable() {
        ringClear();
        renderedPushes = 0;
        state.buffer = [];
        state.bufferDropped = 0;
        state.received = 0;
        state.newAbove = 0;
        state.selectedSeq = null;
        for (const r of pool)
            r._row = null;
        $('grid').scrollTop = 0;
        showDetail(null);
        scheduleRender();
    }

    function togglePause() {
        state.paused = !state.paused;
        if (!state.paused) {
            /* what did not fit counts as dropped, like rows the ring lets go */
            for (const row of state.buffer)
                ringPush(row);
            ring.dropped += state.bufferDropped;
            state.buffer = [];
            state.bufferDropped = 0;
        }
        scheduleRender();
    }

    function selectSeq(seq, scrollIntoView) {
        state.selectedSeq = seq;
        const i = ringIndexOf(seq);
        if (i >= 0) {
            showDetail(ringAt(i));
            if (scrollIntoView) {
                const g = $('grid');
                const top = i * ROW_H;
                if (top < g.scrollTop)
                    g.scrollTop = top;
                else if (top + ROW_H > g.scrollTop + g.clientHeight)
                    g.scrollTop = top + ROW_H - g.clientHeight;
            }
        }
        scheduleRender();
    }

    /* ---- the detail pane ---- */

    /* Pretty-printed, highlighted JSON built from text nodes. */
    function jsonNodes(v, indent, out) {
        const pad = '  '.repeat(indent);
        if (Array.isArray(v)) {
            if (v.length === 0) {
                out.appendChild(document.createTextNode('[]'));
                return;
            }
            out.appendChild(document.createTextNode('[\n'));
            v.forEach((x, i) => {
                out.appendChild(document.createTextNode(pad + '  '));
                jsonNodes(x, indent + 1, out);
                out.appendChild(document.createTextNode(i < v.length - 1 ? ',\n' : '\n'));
            });
            out.appendChild(document.createTextNode(pad + ']'));
        } else if (isPlainObject(v)) {
            const keys = Object.keys(v);
            if (keys.length === 0) {
                out.appendChild(document.createTextNode('{}'));
                return;
            }
            out.appendChild(document.createTextNode('{\n'));
            keys.forEach((k, i) => {
                out.appendChild(document.createTextNode(pad + '  '));
                out.appendChild(el('span', 'j-k', JSON.stringify(k)));
                out.appendChild(document.createTextNode(': '));
                jsonNodes(v[k], indent + 1, out);
                out.appendChild(document.createTextNode(i < keys.length - 1 ? ',\n' : '\n'));
            });
            out.appendChild(document.createTextNode(pad + '}'));
        } else if (typeof v === 'string') {
            out.appendChild(el('span', 'j-s', JSON.stringify(v)));
        } else if (typeof v === 'number') {
            out.appendChild(el('span', 'j-n', JSON.stringify(v)));
        } else {
            out.appendChild(el('span', 'j-b', JSON.stringify(v)));
        }
    }

    function shellQuote(s) {
        return "'" + s.replace(/'/g, "'\\''") + "'";
    }

    function putEventsCommand(ev) {
        const cfg = state.cfg;
        let source = String(ev.source || '');
        let note = '';
        if (/^aws\./.test(source)) {
            source = 'replay.' + source;
            note = '# PutEvents refuses sources that start with "aws.": published as ' + source +
                '\n';
        }
        const entry = {
            Source: source,
            DetailType: ev['detail-type'],
            Detail: JSON.stringify(ev.detail === undefined ? {} : ev.detail),
            EventBusName: 'default',
        };
        if (Array.isArray(ev.resources) && ev.resources.length)
            entry.Resources = ev.resources;
        const creds = cfg.auth ? 'AWS_ACCESS_KEY_ID=' + shellQuote(cfg.access_key) +
            ' AWS_SECRET_ACCESS_KEY=' + shellQuote(cfg.secret_key) + ' '
            : 'AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test ';
        return note + creds + 'aws --endpoint-url ' + cfg.endpoint + ' --region ' + cfg.region +
            ' events put-events --entries ' + shellQuote(JSON.stringify([entry]));
    }

    /* Every leaf as a one-value list: a pattern this event matches, and
     * events that differ in any field do not. */
    function exactPattern(ev) {
        const leaves = (o) => {
            const p = {};
            for (const k of Object.keys(o)) {
                const v = o[k];
                if (isPlainObject(v)) {
                    const sub = leaves(v);
                    if (Object.keys(sub).length)
                        p[k] = sub;
                } else if (Array.isArray(v)) {
                    const sc = v.filter((x) => x === null || typeof x !== 'object');
                    if (sc.length)
                        p[k] = sc;
                } else {
                    p[k] = [v];
                }
            }
            return p;
        };
        const p = {};
        for (const k of ['source', 'detail-type', 'account', 'region', 'id'])
            if (typeof ev[k] === 'string')
                p[k] = [ev[k]];
        if (Array.isArray(ev.resources) && ev.resources.length)
            p.resources = ev.resources.slice();
        if (isPlainObject(ev.detail)) {
            const d = leaves(ev.detail);
            if (Object.keys(d).length)
                p.detail = d;
        }
        return p;
    }

    /* Events like this one: same source and detail-type (and bucket). */
    function similarPattern(ev) {
        const p = {
            source: [String(ev.source || '')],
            'detail-type': [String(ev['detail-type'] || '')],
        };
        const d = isPlainObject(ev.detail) ? ev.detail : {};
        if (isPlainObject(d.bucket) && typeof d.bucket.name === 'string')
            p.detail = {bucket: {name: [d.bucket.name]}};
        return p;
    }

    function figure(src, caption, alt) {
        const f = el('figure', 'preview');
        const img = el('img');
        img.alt = alt;
        img.decoding = 'async';
        img.addEventListener('load', () => f.classList.add('loaded'));
        img.addEventListener('error', () => {
            f.classList.add('failed');
            cap.textContent = caption + ' (could not be loaded)';
        });
        img.src = src;
        const a = el('a');
        a.href = src;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.appendChild(img);
        f.appendChild(a);
        const cap = el('figcaption', null, caption);
        f.appendChild(cap);
        return f;
    }

    function showDetail(row) {
        const token = ++state.detailToken;
        state.detailRow = row;
        $('detail').hidden = !row;
        $('detail-empty').hidden = !!row;
        if (!row)
            return;
        let ev;
        try {
            ev = JSON.parse(row.raw);
        } catch (e) {
            ev = {};
        }
        const badge = $('d-type');
        badge.textContent = row.type || '(no detail-type)';
        badge.style.setProperty('--c', colorOf(row.type));
        $('d-seq').textContent = '#' + row.seq + ' · ' + row.source;
        $('d-time').textContent = row.time;
        const pre = $('d-json');
        const frag = document.createDocumentFragment();
        jsonNodes(ev, 0, frag);
        pre.replaceChildren(frag);
        pre.scrollTop = 0;

        const box = $('d-s3');
        const prev = $('d-previews');
        prev.replaceChildren();
        const d = isPlainObject(ev.detail) ? ev.detail : {};
        const isS3 = row.source === 'aws.s3' && row.bucket && isPlainObject(d.object);
        /* other sources naming an object the flat way (the thumbnail consumer) */
        const names = !isS3 && row.bucket && row.key && typeof d.key === 'string';
        box.hidden = !isS3 && !names;
        if (box.hidden)
            return;
        const link = $('d-link');
        link.textContent = row.bucket + '/' + row.key;
        const gone = /Deleted/.test(row.type);
        link.removeAttribute('href');
        link.classList.toggle('gone', gone);
        if (gone) {
            link.title = 'the object was deleted';
            return;
        }
        link.title = 'Open the object (presigned URL)';
        const etagOf = isS3 ? d.object.etag : d.etag;
        const etag = typeof etagOf === 'string' ? etagOf : '';
        const image = IMAGE_RE.test(row.key);
        const objSlot = el('figure', 'preview pending');
        if (image)
            prev.appendChild(objSlot);
        presign(row.bucket, row.key, etag).then((url) => {
            if (token !== state.detailToken)
                return;
            link.href = url;
            if (image)
                objSlot.replaceWith(figure(url, 'object · ' + fmtSize(row.size),
                    'the object ' + row.key));
        }).catch((e) => toast(e.message, 'bad'));
        if (!image)
            return;
        if (typeof d.output_bucket === 'string' && typeof d.output_key === 'string') {
            /* the thumbnail consumer says where it put the thumbnail */
            const out = {bucket: d.output_bucket, key: d.output_key};
            const tslot = el('figure', 'preview pending');
            prev.appendChild(tslot);
            presign(out.bucket, out.key, '').then((url) => {
                if (token === state.detailToken)
                    tslot.replaceWith(figure(url, 'thumbnail · ' + out.bucket + '/' + out.key,
                        'the thumbnail ' + out.key));
            }).catch((e) => toast(e.message, 'bad'));
            return;
        }
        if (!thumbBucketFor(row.bucket))
            return;
        const slot = el('figure', 'preview pending');
        slot.appendChild(el('div', 'nothumb', 'looking for a thumbnail…'));
        prev.appendChild(slot);
        lookForThumb(row, token, slot);
    }

    async function lookForThumb(row, token, slot) {
        const t = await findThumbnail(row.bucket, row.key);
        if (token !== state.detailToken)
            return;
        if (!t) {
            const tb = thumbBucketFor(row.bucket);
            slot.firstChild.textContent = tb ? 'no thumbnail in ' + tb + ' yet'
                : 'no thumbnails bucket';
            slot.dataset.waiting = '1';
            return;
        }
        const url = await presign(t.bucket, t.key, t.etag);
        if (token !== state.detailToken)
            return;
        slot.replaceWith(figure(url, 'thumbnail · ' + t.bucket + '/' + t.key,
            'the thumbnail ' + t.key));
    }

    /* A new object in a thumbnails bucket may be the one the pane waits for. */
    function recheckThumb(bucket) {
        const row = state.detailRow;
        if (!row || !/thumb/i.test(bucket))
            return;
        const slot = document.querySelector('#d-previews figure[data-waiting]');
        if (slot && thumbBucketFor(row.bucket) === bucket) {
            delete slot.dataset.waiting;
            lookForThumb(row, state.detailToken, slot);
        }
    }

    /* ---- rate chart ---- */

    const rate = {secs: new Map(), timer: null};

    function rateAdd(row) {
        let t = Math.floor(Date.parse(row.time) / 1000);
        const now = Math.floor(Date.now() / 1000);
        if (!Number.isFinite(t))
            t = now;
        if (now - t >= RATE_WINDOW_S || t > now + 5)
            return;
        let m = rate.secs.get(t);
        if (!m) {
            m = new Map();
            rate.secs.set(t, m);
        }
        m.set(row.type, (m.get(row.type) || 0) + 1);
    }

    function rateClear() {
        rate.secs.clear();
        drawRate();
    }

    function drawRate() {
        const cv = $('rate-canvas');
        const dpr = window.devicePixelRatio || 1;
        const w = cv.clientWidth, h = cv.clientHeight;
        if (w === 0)
            return;
        if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
            cv.width = Math.round(w * dpr);
            cv.height = Math.round(h * dpr);
        }
        const ctx = cv.getContext('2d');
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, w, h);
        const css = getComputedStyle(document.documentElement);
        const muted = css.getPropertyValue('--muted').trim() || '#888';
        const line = css.getPropertyValue('--line').trim() || '#ddd';
        const now = Math.floor(Date.now() / 1000);
        const totals = new Map();
        let max = 1;
        for (const [t, m] of rate.secs) {
            if (now - t >= RATE_WINDOW_S) {
                rate.secs.delete(t);
                continue;
            }
            let sum = 0;
            for (const [type, n] of m) {
                sum += n;
                totals.set(type, (totals.get(type) || 0) + n);
            }
            max = Math.max(max, sum);
        }
        const top = 14, bottom = h - 12, left = 4, right = w - 4;
        const bw = (right - left) / RATE_WINDOW_S;
        ctx.strokeStyle = line;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(left, bottom + 0.5);
        ctx.lineTo(right, bottom + 0.5);
        ctx.stroke();
        const order = Array.from(totals.keys()).sort();
        for (const [t, m] of rate.secs) {
            const x = right - (now - t + 1) * bw;
            let y = bottom;
            for (const type of order) {
                const n = m.get(type);
                if (!n)
                    continue;
                const bh = (n / max) * (bottom - top);
                ctx.fillStyle = colorOf(type);
                ctx.fillRect(x, y - bh, Math.max(1, bw - 0.5), bh);
                y -= bh;
            }
        }
        ctx.fillStyle = muted;
        ctx.font = '10px system-ui, sans-serif';
        ctx.textBaseline = 'top';
        ctx.textAlign = 'left';
        ctx.fillText('events/s · peak ' + max + '/s', left, 1);
        ctx.textBaseline = 'bottom';
        ctx.fillText(RATE_WINDOW_S / 60 + ' min ago', left, h);
        ctx.textAlign = 'right';
        ctx.fillText('now', right, h);
        /* the busiest types first, in columns of four; the rest summed up */
        const legend = $('rate-legend');
        const byCount = order.slice().sort((a, b) => totals.get(b) - totals.get(a));
        const shown = byCount.length > LEGEND_MAX ? byCount.slice(0, LEGEND_MAX - 1) : byCount;
        const items = shown.map((type) => {
            const it = el('span', 'lg');
            const sw = el('i');
            sw.style.background = colorOf(type);
            it.appendChild(sw);
            it.appendChild(el('span', null, type));
            it.appendChild(el('b', null, totals.get(type).toLocaleString()));
            it.title = type;
            return it;
        });
        const rest = byCount.slice(shown.length);
        if (rest.length) {
            const it = el('span', 'lg more');
            it.appendChild(el('span', null, '+' + rest.length + ' more types'));
            it.appendChild(el('b', null,
                rest.reduce((n, t) => n + totals.get(t), 0).toLocaleString()));
            it.title = rest.map((t) => t + ': ' + totals.get(t)).join('\n');
            items.push(it);
        }
        if (!order.length)
            items.push(el('span', 'muted', 'no recent events'));
        legend.replaceChildren(...items);
    }

    /* ---- pipeline panel ---- */

    async function loadRules() {
        try {
            const j = await fetchJSON('api/rules');
            state.rules = j.rules || [];
        } catch (e) {
            return;
        }
        renderRules();
        renderPipeline();
    }

    async function pollHealth() {
        try {
            const j = await fetchJSON('health');
            if (Array.isArray(j.consumers) && !(state.status && state.status.consumers))
                state.consumers = j.consumers;
            renderPipeline();
        } catch (e) {
            /* the connection indicator says it */
        }
    }

    function renderRules() {
        const box = $('rules');
        box.replaceChildren();
        if (!state.rules.length)
            box.appendChild(el('p', 'muted', 'No rules.'));
        for (const r of state.rules) {
            const card = el('div', 'card rule' + (r.enabled ? '' : ' off'));
            const head = el('div', 'card-head');
            head.appendChild(el('b', null, r.name));
            head.appendChild(el('span', 'tag', r.enabled ? 'enabled' : 'disabled'));
            if (r.bus && r.bus !== 'default')
                head.appendChild(el('span', 'tag', 'bus ' + r.bus));
            if (r.origin)
                head.appendChild(el('span', 'tag muted', r.origin));
            card.appendChild(head);
            if (r.description)
                card.appendChild(el('p', 'desc', r.description));
            const det = el('details');
            det.appendChild(el('summary', null, 'pattern'));
            const pre = el('pre', 'json small');
            const frag = document.createDocumentFragment();
            jsonNodes(r.pattern, 0, frag);
            pre.appendChild(frag);
            det.appendChild(pre);
            const use = el('button', 'small', 'Filter with this pattern');
            use.type = 'button';
            use.addEventListener('click', () => usePattern(r.pattern));
            det.appendChild(use);
            card.appendChild(det);
            const ul = el('ul', 'targets');
            for (const t of r.targets || []) {
                const li = el('li');
                li.appendChild(el('span', 'tag kind-' + t.kind, t.kind));
                li.appendChild(el('b', null, t.resource || t.id));
                li.appendChild(el('span', 'muted arn', t.arn));
                if (t.dead_letter_arn)
                    li.appendChild(el('span', 'muted', 'dead letters → ' +
                        t.dead_letter_arn.split(':').pop()));
                ul.appendChild(li);
            }
            if (!(r.targets || []).length)
                ul.appendChild(el('li', 'muted', 'no targets'));
            card.appendChild(ul);
            box.appendChild(card);
        }
    }

    function dlqArnsOfGroup(name) {
        const arns = new Set();
        for (const r of state.rules)
            for (const t of r.targets || [])
                if (t.kind === 'queue' && t.resource === name && t.dead_letter_arn)
                    arns.add(t.dead_letter_arn);
        return arns;
    }

    function processesText(name) {
        const cs = (state.consumers || []).filter((c) => c.group === name);
        if (!cs.length)
            return {text: state.consumers ? 'not supervised' : '', title: ''};
        const running = [], notes = [];
        for (const c of cs) {
            for (const i of c.instances || [])
                if (i.state === 'running')
                    running.push(i.pid);
            if (c.problem)
                notes.push(c.name + ': ' + c.problem);
        }
        const text = running.length ? running.length + ' process' +
            (running.length === 1 ? '' : 'es') + ' running' : 'no process running';
        return {
            text: text + (notes.length ? ' ⚠' : ''),
            title: (running.length ? 'pid ' + running.join(', ') : '') +
                (notes.length ? '\n' + notes.join('\n') : ''),
        };
    }

    function stat(label, value, cls) {
        const c = el('div', 'stat' + (cls ? ' ' + cls : ''));
        c.appendChild(el('b', null, value === undefined ? '—' : Number(value).toLocaleString()));
        c.appendChild(el('span', null, label));
        return c;
    }

    function renderPipeline() {
        const st = state.status;
        const dlqDepth = new Map();
        for (const q of (st && st.dead_letter_queues) || [])
            dlqDepth.set(q.arn, q.depth);
        const cards = [];
        for (const g of (st && st.groups) || []) {
            let dead = 0;
            for (const arn of dlqArnsOfGroup(g.name))
                dead += dlqDepth.get(arn) || 0;
            const card = el('div', 'card group');
            card.dataset.group = g.name;
            const head = el('div', 'card-head');
            head.appendChild(el('b', null, g.name));
            const p = processesText(g.name);
            const procs = el('span', 'procs', p.text);
            procs.title = p.title;
            head.appendChild(procs);
            card.appendChild(head);
            const stats = el('div', 'stats');
            stats.appendChild(stat('depth', g.depth, g.depth > 0 ? 'hot' : ''));
            stats.appendChild(stat('in flight', g.in_flight));
            stats.appendChild(stat('acked', g.acked));
            stats.appendChild(stat('failed', g.failed, g.failed > 0 ? 'bad' : ''));
            stats.appendChild(stat('dead', dead, dead > 0 ? 'bad' : ''));
            stats.appendChild(stat('members', g.members, g.depth > 0 && !g.members ? 'bad' : ''));
            card.appendChild(stats);
            cards.push(card);
        }
        if (!cards.length)
            cards.push(el('p', 'muted',
                st ? 'No consumer groups.' : 'Waiting for the status stream…'));
        $('groups').replaceChildren(...cards);
        renderDlqs(dlqDepth);
    }

    function renderDlqs(depths) {
        const arns = new Set(depths.keys());
        for (const r of state.rules)
            for (const t of r.targets || [])
                if (t.dead_letter_arn)
                    arns.add(t.dead_letter_arn);
        const box = $('dlqs');
        const keep = new Map();
        for (const c of box.querySelectorAll('.dlq'))
            keep.set(c.dataset.arn, c);
        const cards = [];
        for (const arn of Array.from(arns).sort()) {
            let card = keep.get(arn);
            if (!card)
                card = makeDlqCard(arn);
            const depth = depths.get(arn) || 0;
            card.querySelector('.depth').textContent = depth.toLocaleString() + ' event' +
                (depth === 1 ? '' : 's');
            card.querySelector('.redrive').disabled = depth === 0;
            card.classList.toggle('has', depth > 0);
            cards.push(card);
        }
        if (!cards.length)
            cards.push(el('p', 'muted', 'None configured (a target\'s DeadLetterConfig).'));
        box.replaceChildren(...cards);
    }

    function makeDlqCard(arn) {
        const card = el('div', 'card dlq');
        card.dataset.arn = arn;
        const head = el('div', 'card-head');
        head.appendChild(el('b', null, arn.split(':').pop()));
        head.appendChild(el('span', 'depth tag'));
        const view = el('button', 'small', 'View');
        view.type = 'button';
        const redrive = el('button', 'small redrive', 'Redrive');
        redrive.type = 'button';
        redrive.title = 'Send every dead-lettered event back to its target';
        head.appendChild(view);
        head.appendChild(redrive);
        card.appendChild(head);
        card.appendChild(el('div', 'muted arn', arn));
        const list = el('div', 'dlq-list');
        list.hidden = true;
        card.appendChild(list);
        view.addEventListener('click', () => {
            list.hidden = !list.hidden;
            view.textContent = list.hidden ? 'View' : 'Hide';
            if (!list.hidden)
                loadDlq(arn, list);
        });
        redrive.addEventListener('click', async () => {
            redrive.disabled = true;
            try {
                /* mutating calls carry the token the daemon handed the page */
                const headers = state.cfg && state.cfg.token
                    ? {'X-Bucketbridge-Token': state.cfg.token} : {};
                const j = await fetchJSON('dlq/redrive?arn=' + encodeURIComponent(arn),
                    {method: 'POST', headers});
                toast('Redrove ' + j.Redriven + ' event' + (j.Redriven === 1 ? '' : 's') +
                    ' from ' + arn.split(':').pop());
                if (!list.hidden)
                    loadDlq(arn, list);
                send({type: 'status'});
            } catch (e) {
                toast('Redrive failed: ' + e.message, 'bad');
                redrive.disabled = false;
            }
        });
        return card;
    }

    async function loadDlq(arn, list) {
        list.replaceChildren(el('p', 'muted', 'loading…'));
        let j;
        try {
            j = await fetchJSON('dlq?arn=' + encodeURIComponent(arn) + '&limit=100');
        } catch (e) {
            list.replaceChildren(el('p', 'bad', e.message));
            return;
        }
        const msgs = j.Messages || [];
        if (!msgs.length) {
            list.replaceChildren(el('p', 'muted', 'empty'));
            return;
        }
        const items = msgs.map((m) => {
            const d = el('details', 'dlq-item');
            const attrs = isPlainObject(m.MessageAttributes) ? m.MessageAttributes : {};
            const attr = (n) => {
                const a = attrs[n];
                return isPlainObject(a) ? (a.StringValue || a.stringValue || '') : (a || '');
            };
            const s = el('summary');
            s.appendChild(el('b', null, '#' + m.Sequence));
            s.appendChild(el('span', null, ' ' + m.Rule + ' → ' + m.Target + ' '));
            const code = attr('ERROR_CODE');
            if (code)
                s.appendChild(el('span', 'tag bad', code));
            const msg = attr('ERROR_MESSAGE');
            if (msg)
                s.appendChild(el('span', 'muted', ' ' + msg));
            d.appendChild(s);
            let body = m.Body;
            try {
                body = JSON.parse(m.Body);
            } catch (e) {
                /* shown as text */
            }
            const pre = el('pre', 'json small');
            const frag = document.createDocumentFragment();
            jsonNodes({Body: body, MessageAttributes: attrs,
                SentTimestamp: new Date(m.SentTimestamp).toISOString()}, 0, frag);
            pre.appendChild(frag);
            d.appendChild(pre);
            return d;
        });
        list.replaceChildren(...items);
    }

    function usePattern(p) {
        $('pattern').value = JSON.stringify(p, null, 2);
        $('f-bucket').value = '';
        $('f-type').value = '';
        $('f-prefix').value = '';
        $('pattern-box').hidden = false;
        $('f-pattern-toggle').setAttribute('aria-expanded', 'true');
        applyFilter();
    }

    /* ---- buckets panel ---- */

    const bucketTimers = new Map();

    async function loadBuckets() {
        let names;
        try {
            names = await listBuckets();
        } catch (e) {
            $('buckets').replaceChildren(el('p', 'bad', 'Cannot list buckets: ' + e.message));
            return;
        }
        state.buckets = names;
        const sel = $('f-bucket');
        const cur = sel.value;
        sel.replaceChildren(el('option', null, 'any'));
        sel.firstChild.value = '';
        for (const n of names) {
            const o = el('option', null, n);
            o.value = n;
            sel.appendChild(o);
        }
        sel.value = names.includes(cur) ? cur : '';
        const box = $('buckets');
        const keep = new Map();
        for (const c of box.querySelectorAll('.bucket'))
            keep.set(c.dataset.bucket, c);
        const cards = names.map((n) => keep.get(n) || makeBucketCard(n));
        if (!cards.length)
            cards.push(el('p', 'muted', 'No buckets yet.'));
        box.replaceChildren(...cards);
        for (const n of names)
            refreshBucket(n);
    }

    function makeBucketCard(name) {
        const card = el('section', 'card bucket');
        card.dataset.bucket = name;
        const head = el('div', 'card-head');
        head.appendChild(el('b', 'bname', name));
        head.appendChild(el('span', 'tag count', '…'));
        const up = el('label', 'button small', 'Upload…');
        const input = el('input');
        input.type = 'file';
        input.multiple = true;
        input.hidden = true;
        input.addEventListener('change', () => {
            uploadFiles(name, input.files);
            input.value = '';
        });
        up.appendChild(input);
        head.appendChild(up);
        const rf = el('button', 'small', 'Refresh');
        rf.type = 'button';
        rf.addEventListener('click', () => refreshBucket(name));
        head.appendChild(rf);
        card.appendChild(head);
        card.appendChild(el('div', 'tiles'));
        card.appendChild(el('div', 'drop-hint', 'Drop files to upload to ' + name));
        let depth = 0;
        card.addEventListener('dragenter', (e) => {
            e.preventDefault();
            depth++;
            card.classList.add('drag');
        });
        card.addEventListener('dragover', (e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'copy';
        });
        card.addEventListener('dragleave', () => {
            depth = Math.max(0, depth - 1);
            if (depth === 0)
                card.classList.remove('drag');
        });
        card.addEventListener('drop', (e) => {
            e.preventDefault();
            e.stopPropagation();
            depth = 0;
            card.classList.remove('drag');
            if (e.dataTransfer && e.dataTransfer.files.length)
                uploadFiles(name, e.dataTransfer.files);
        });
        return card;
    }

    async function uploadFiles(bucket, files) {
        for (const f of Array.from(files)) {
            const what = f.name + ' → ' + bucket;
            try {
                if (f.size > 512 * 1024 * 1024)
                    throw new Error('larger than 512 MB: use aws s3 cp for big files');
                const body = await f.arrayBuffer();
                const r = await s3Fetch('PUT', bucket, f.name, null, body,
                    {'Content-Type': f.type || 'application/octet-stream'});
                if (!r.ok)
                    throw new Error(await s3ErrorText(r));
                toast('Uploaded ' + what + ' (' + fmtSize(f.size) + ')', 'good');
            } catch (e) {
                toast('Upload failed: ' + what + ': ' + e.message, 'bad');
            }
        }
        refreshBucket(bucket);
    }

    function bucketChanged(bucket) {
        recheckThumb(bucket);
        if (!state.buckets.includes(bucket)) {
            if (!bucketTimers.has('*'))
                bucketTimers.set('*', setTimeout(() => {
                    bucketTimers.delete('*');
                    loadBuckets();
                }, 800));
            return;
        }
        if ($('panel-buckets').hidden) {
            state.staleBuckets.add(bucket);
            return;
        }
        if (bucketTimers.has(bucket))
            return;
        bucketTimers.set(bucket, setTimeout(() => {
            bucketTimers.delete(bucket);
            refreshBucket(bucket);
        }, 500));
    }

    async function refreshBucket(name) {
        const card = document.querySelector('.bucket[data-bucket="' + CSS.escape(name) + '"]');
        if (!card)
            return;
        state.staleBuckets.delete(name);
        let res;
        try {
            res = await listObjects(name, '', 1000);
        } catch (e) {
            card.querySelector('.count').textContent = 'error';
            card.querySelector('.tiles').replaceChildren(el('p', 'bad', e.message));
            return;
        }
        const items = res.items.sort((a, b) => (a.modified < b.modified ? 1 : -1));
        card.querySelector('.count').textContent = items.length.toLocaleString() +
            (res.truncated ? '+' : '') + ' object' + (items.length === 1 ? '' : 's');
        const tiles = items.slice(0, BUCKET_TILES).map((o) => makeTile(name, o));
        if (!tiles.length)
            tiles.push(el('p', 'muted empty', 'Empty: drop files here.'));
        if (items.length > BUCKET_TILES)
            tiles.push(el('p', 'muted more', 'and ' + (items.length - BUCKET_TILES) +
                (res.truncated ? '+' : '') + ' more (newest shown)'));
        card.querySelector('.tiles').replaceChildren(...tiles);
    }

    function makeTile(bucket, o) {
        const a = el('a', 'tile');
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.title = o.key + '\n' + fmtSize(o.size) + ' · ' + new Date(o.modified).toLocaleString();
        const pic = el('div', 'pic');
        if (IMAGE_RE.test(o.key)) {
            const img = el('img');
            img.alt = '';
            img.loading = 'lazy';
            img.decoding = 'async';
            img.addEventListener('error', () => {
                img.remove();
                pic.textContent = 'img';
            });
            pic.appendChild(img);
            presign(bucket, o.key, o.etag).then((u) => {
                img.src = u;
            });
        } else {
            const ext = (o.key.match(/\.([^./]{1,5})$/) || [null, 'file'])[1];
            pic.appendChild(el('span', 'ext', ext));
        }
        a.appendChild(pic);
        a.appendChild(el('span', 'tkey', o.key.split('/').pop() || o.key));
        a.appendChild(el('span', 'tsize', fmtSize(o.size)));
        presign(bucket, o.key, o.etag).then((u) => {
            a.href = u;
        });
        return a;
    }

    /* ---- tabs ---- */

    function showTab(name) {
        for (const t of ['detail', 'pipeline', 'buckets']) {
            const on = t === name;
            $('tab-' + t).setAttribute('aria-selected', on ? 'true' : 'false');
            $('tab-' + t).tabIndex = on ? 0 : -1;
            $('panel-' + t).hidden = !on;
        }
        if (name === 'buckets')
            for (const b of Array.from(state.staleBuckets))
                refreshBucket(b);
        if (name === 'pipeline')
            pollHealth();
    }

    /* ---- wiring ---- */

    function startPanels() {
        for (const t of S3_TYPES)
            $('f-types').appendChild(el('option')).value = t;
        for (const b of state.cfg.buckets || []) {
            const o = el('option', null, b);
            o.value = b;
            $('f-bucket').appendChild(o);
        }
        loadBuckets();
        renderPipeline();
    }

    function wire() {
        $('pause').addEventListener('click', togglePause);
        $('clear').addEventListener('click', () => {
            clearTable();
            rateClear();
        });
        $('conn').addEventListener('click', () => {
            if (!state.ws)
                connect();
        });
        $('filters').addEventListener('submit', (e) => {
            e.preventDefault();
            applyFilter();
        });
        $('f-bucket').addEventListener('change', applyFilter);
        $('f-type').addEventListener('change', applyFilter);
        $('f-prefix').addEventListener('change', applyFilter);
        $('f-from').addEventListener('change', () => {
            const f = $('f-from').value;
            $('f-from-seq').hidden = f !== 'seq';
            $('f-from-time').hidden = f !== 'time';
            if (f === 'seq' && $('f-from-seq').value === '')
                $('f-from-seq').value = Math.max(0, (state.lastSeq || 0) - 100);
            if (f === 'time' && $('f-from-time').value === '') {
                const tz = new Date().getTimezoneOffset() * 60000;
                const d = new Date(Date.now() - 3600 * 1000 - tz);
                $('f-from-time').value = d.toISOString().slice(0, 19);
            }
        });
        $('f-reset').addEventListener('click', () => {
            $('f-bucket').value = '';
            $('f-type').value = '';
            $('f-prefix').value = '';
            $('pattern').value = '';
            $('f-from').value = 'recent';
            $('f-from').dispatchEvent(new Event('change'));
            $('pattern-msg').hidden = true;
            $('pattern').classList.remove('invalid');
            applyFilter();
        });
        $('f-pattern-toggle').addEventListener('click', () => {
            const box = $('pattern-box');
            box.hidden = !box.hidden;
            $('f-pattern-toggle').setAttribute('aria-expanded', box.hidden ? 'false' : 'true');
            if (!box.hidden)
                $('pattern').focus();
        });
        $('pattern').addEventListener('keydown', (e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                applyFilter();
            }
        });
        $('pattern').addEventListener('input', () => $('pattern').classList.remove('invalid'));

        const grid = $('grid');
        grid.addEventListener('scroll', scheduleRender, {passive: true});
        grid.addEventListener('click', (e) => {
            const r = e.target.closest('.row');
            if (r && r._row) {
                selectSeq(r._row.seq, false);
                showTab('detail');
            }
        });
        grid.addEventListener('keydown', (e) => {
            if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home')
                return;
            e.preventDefault();
            if (!ring.size)
                return;
            let i = state.selectedSeq === null ? -1 : ringIndexOf(state.selectedSeq);
            if (e.key === 'Home')
                i = 0;
            else
                i = Math.max(0, Math.min(ring.size - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
            selectSeq(ringAt(i).seq, true);
        });
        $('new-pill').addEventListener('click', () => {
            grid.scrollTop = 0;
            state.newAbove = 0;
            scheduleRender();
        });
        new ResizeObserver(() => {
            scheduleRender();
            drawRate();
        }).observe(grid);

        for (const t of ['detail', 'pipeline', 'buckets'])
            $('tab-' + t).addEventListener('click', () => showTab(t));
        document.querySelector('.tabs').addEventListener('keydown', (e) => {
            const order = ['detail', 'pipeline', 'buckets'];
            const cur = order.findIndex(
                (t) => $('tab-' + t).getAttribute('aria-selected') === 'true');
            if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft')
                return;
            const next = order[(cur + (e.key === 'ArrowRight' ? 1 : 2)) % 3];
            showTab(next);
            $('tab-' + next).focus();
        });

        $('copy-json').addEventListener('click', () => {
            const row = state.detailRow;
            if (row)
                copyText(JSON.stringify(JSON.parse(row.raw), null, 2), 'the event JSON');
        });
        $('copy-put').addEventListener('click', () => {
            const row = state.detailRow;
            if (row)
                copyText(putEventsCommand(JSON.parse(row.raw)), 'a put-events command');
        });
        $('copy-pattern').addEventListener('click', () => {
            const row = state.detailRow;
            if (row)
                copyText(JSON.stringify(exactPattern(JSON.parse(row.raw)), null, 2),
                    'a pattern matching this event');
        });
        $('use-pattern').addEventListener('click', () => {
            const row = state.detailRow;
            if (row)
                usePattern(similarPattern(JSON.parse(row.raw)));
        });
        $('rules-refresh').addEventListener('click', loadRules);

        /* a file dropped outside a bucket must not navigate away */
        window.addEventListener('dragover', (e) => e.preventDefault());
        window.addEventListener('drop', (e) => e.preventDefault());

        setInterval(() => {
            drawRate();
            tickConn();
        }, 1000);
        setInterval(() => {
            if (state.ws)
                pollHealth();
        }, HEALTH_MS);
    }

    /* Read-only hooks for tests and the browser console. */
    window.bbViewer = {
        seqs: () => {
            const out = [];
            for (let i = ring.size - 1; i >= 0; i--)
                out.push(ringAt(i).seq);
            return out;
        },
        /* the rows the table holds, oldest first, as shown */
        rows: () => {
            const out = [];
            for (let i = ring.size - 1; i >= 0; i--) {
                const r = ringAt(i);
                out.push({seq: r.seq, type: r.type, source: r.source, bucket: r.bucket,
                    key: r.key});
            }
            return out;
        },
        lastSeq: () => state.lastSeq,
        connected: () => !!state.ws && state.ws.readyState === WebSocket.OPEN,
        filter: () => state.applied,
    };

    wire();
    showFilterState();
    renderCounters();
    drawRate();
    connect();
})();

// ReaderPass card page: draws the current slot's token as a QR code, offline.
//
// The page embeds a signed batch (one token per slot). Every second this script
// picks the token of the current slot and, when it changed, encodes it as a QR
// code exactly as the server's images are made (cards/qr.py with python-qrcode):
// alphanumeric mode, error correction level M, smallest version (6 for a v1
// token), mask chosen by the ISO/IEC 18004 penalty rules, quiet zone of 4 modules.
"use strict";

(function () {
  var ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  // Level M: [data codewords per block, blocks, EC codewords per block] for versions
  // 1-6 (ISO/IEC 18004 Table 9); alphanumeric capacities follow from these.
  var BLOCKS = [null, [16, 1, 10], [28, 1, 16], [44, 1, 26], [32, 2, 18], [43, 2, 24],
                [27, 4, 16]];
  var ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34]];
  var QUIET = 4;

  // GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d).
  var EXP = new Array(512), LOG = new Array(256);
  (function () {
    var x = 1;
    for (var i = 0; i < 255; i++) { EXP[i] = x; LOG[x] = i; x <<= 1; if (x & 256) x ^= 0x11d; }
    for (i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  })();

  function generator(degree) {
    var poly = [1];
    for (var i = 0; i < degree; i++) {
      var next = new Array(poly.length + 1).fill(0);
      for (var j = 0; j < poly.length; j++) {
        next[j] ^= poly[j];
        next[j + 1] ^= poly[j] === 0 ? 0 : EXP[LOG[poly[j]] + i];
      }
      poly = next;
    }
    return poly;
  }

  function ecc(data, degree) {
    var gen = generator(degree), rem = data.concat(new Array(degree).fill(0));
    for (var i = 0; i < data.length; i++) {
      var factor = rem[i];
      if (factor === 0) continue;
      for (var j = 0; j < gen.length; j++) {
        if (gen[j] !== 0) rem[i + j] ^= EXP[LOG[gen[j]] + LOG[factor]];
      }
    }
    return rem.slice(data.length);
  }

  function codewords(text, version) {
    var spec = BLOCKS[version], capacity = spec[0] * spec[1], bits = [];
    function put(value, length) {
      for (var i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
    }
    put(2, 4);  // alphanumeric mode indicator 0010
    put(text.length, 9);  // character count, versions 1-9
    for (var i = 0; i + 1 < text.length; i += 2) {
      put(ALNUM.indexOf(text[i]) * 45 + ALNUM.indexOf(text[i + 1]), 11);
    }
    if (text.length % 2) put(ALNUM.indexOf(text[text.length - 1]), 6);
    for (i = 0; i < 4 && bits.length < capacity * 8; i++) bits.push(0);  // terminator
    while (bits.length % 8) bits.push(0);
    var data = [];
    for (i = 0; i < bits.length; i += 8) {
      var byte = 0;
      for (var j = 0; j < 8; j++) byte = (byte << 1) | bits[i + j];
      data.push(byte);
    }
    for (i = 0; data.length < capacity; i++) data.push(i % 2 ? 0x11 : 0xec);
    var blocks = [], checks = [];
    for (i = 0; i < spec[1]; i++) {
      blocks.push(data.slice(i * spec[0], (i + 1) * spec[0]));
      checks.push(ecc(blocks[i], spec[2]));
    }
    var out = [];
    for (i = 0; i < spec[0]; i++) for (j = 0; j < spec[1]; j++) out.push(blocks[j][i]);
    for (i = 0; i < spec[2]; i++) for (j = 0; j < spec[1]; j++) out.push(checks[j][i]);
    return out;
  }

  function chooseVersion(text) {
    for (var v = 1; v < BLOCKS.length; v++) {
      var bitsNeeded = 13 + 11 * Math.floor(text.length / 2) + 6 * (text.length % 2);
      if (bitsNeeded <= BLOCKS[v][0] * BLOCKS[v][1] * 8) return v;
    }
    throw new Error("text too long for QR versions 1-6");
  }

  var MASKS = [
    function (i, j) { return (i + j) % 2 === 0; },
    function (i) { return i % 2 === 0; },
    function (i, j) { return j % 3 === 0; },
    function (i, j) { return (i + j) % 3 === 0; },
    function (i, j) { return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0; },
    function (i, j) { return (i * j) % 2 + (i * j) % 3 === 0; },
    function (i, j) { return ((i * j) % 2 + (i * j) % 3) % 2 === 0; },
    function (i, j) { return ((i * j) % 3 + (i + j) % 2) % 2 === 0; }
  ];

  function formatBits(mask) {  // level M = 0 (python-qrcode numbering), BCH(15,5)
    var data = mask, d = data << 10;
    for (var shift = 4; shift >= 0; shift--) if (d & (1 << (shift + 10))) d ^= 0x537 << shift;
    return ((data << 10) | d) ^ 0x5412;
  }

  function build(version, words, mask, test) {
    var n = 17 + 4 * version, m = [], r, c, i;
    for (r = 0; r < n; r++) m.push(new Array(n).fill(null));
    [[0, 0], [n - 7, 0], [0, n - 7]].forEach(function (p) {
      for (r = -1; r <= 7; r++) for (c = -1; c <= 7; c++) {
        var y = p[0] + r, x = p[1] + c;
        if (y < 0 || y >= n || x < 0 || x >= n) continue;
        m[y][x] = (r >= 0 && r <= 6 && (c === 0 || c === 6)) ||
          (c >= 0 && c <= 6 && (r === 0 || r === 6)) || (r >= 2 && r <= 4 && c >= 2 && c <= 4);
      }
    });
    var pos = ALIGN[version];
    pos.forEach(function (y) {
      pos.forEach(function (x) {
        if (m[y][x] !== null) return;
        for (r = -2; r <= 2; r++) for (c = -2; c <= 2; c++) {
          m[y + r][x + c] = r === -2 || r === 2 || c === -2 || c === 2 || (r === 0 && c === 0);
        }
      });
    });
    for (i = 8; i < n - 8; i++) {
      if (m[i][6] === null) m[i][6] = i % 2 === 0;
      if (m[6][i] === null) m[6][i] = i % 2 === 0;
    }
    var bits = formatBits(mask);
    for (i = 0; i < 15; i++) {
      var on = !test && ((bits >> i) & 1) === 1;
      m[i < 6 ? i : i < 8 ? i + 1 : n - 15 + i][8] = on;
      m[8][i < 8 ? n - i - 1 : i < 9 ? 15 - i : 14 - i] = on;
    }
    m[n - 8][8] = !test;
    var inc = -1, row = n - 1, bitIndex = 7, byteIndex = 0, fn = MASKS[mask];
    for (var right = n - 1; right > 0; right -= 2) {
      var col = right <= 6 ? right - 1 : right;  // skip the vertical timing column
      for (;;) {
        for (c = col; c > col - 2; c--) {
          if (m[row][c] !== null) continue;
          var dark = byteIndex < words.length && ((words[byteIndex] >> bitIndex) & 1) === 1;
          m[row][c] = fn(row, c) ? !dark : dark;
          if (--bitIndex === -1) { byteIndex++; bitIndex = 7; }
        }
        row += inc;
        if (row < 0 || row >= n) { row -= inc; inc = -inc; break; }
      }
    }
    return m;
  }

  function penalty(m) {  // ISO/IEC 18004 §7.8.3, as python-qrcode counts it
    var n = m.length, lost = 0, r, c, k, dark = 0;
    function line(get) {
      for (var a = 0; a < n; a++) {
        var run = 1;
        for (var b = 1; b <= n; b++) {
          if (b < n && get(a, b) === get(a, b - 1)) { run++; continue; }
          if (run >= 5) lost += run - 2;
          run = 1;
        }
        for (b = 0; b + 10 < n; b++) {
          var w = [];
          for (k = 0; k < 11; k++) w.push(get(a, b + k));
          var core = w[1] === false && w[4] && w[5] === false && w[6] && w[9] === false;
          if (core && ((w[0] && w[2] && w[3] && !w[7] && !w[8] && !w[10]) ||
                       (!w[0] && !w[2] && !w[3] && w[7] && w[8] && w[10]))) lost += 40;
        }
      }
    }
    line(function (a, b) { return m[a][b]; });
    line(function (a, b) { return m[b][a]; });
    for (r = 0; r + 1 < n; r++) for (c = 0; c + 1 < n; c++) {
      var v = m[r][c];
      if (v === m[r][c + 1] && v === m[r + 1][c] && v === m[r + 1][c + 1]) lost += 3;
    }
    for (r = 0; r < n; r++) for (c = 0; c < n; c++) if (m[r][c]) dark++;
    return lost + Math.floor(Math.abs(dark * 100 / (n * n) - 50) / 5) * 10;
  }

  function encode(text) {
    if (!text || Array.prototype.some.call(text, function (ch) { return ALNUM.indexOf(ch) < 0; })) {
      throw new Error("QR text must be in the alphanumeric set");
    }
    var version = chooseVersion(text), words = codewords(text, version), best = 0, least = null;
    for (var mask = 0; mask < 8; mask++) {  // python-qrcode scores with format bits light
      var score = penalty(build(version, words, mask, true));
      if (least === null || score < least) { least = score; best = mask; }
    }
    return build(version, words, best, false);
  }

  function svg(matrix, moduleSize) {
    var ns = "http://www.w3.org/2000/svg", n = matrix.length, size = (n + 2 * QUIET) * moduleSize;
    var root = document.createElementNS(ns, "svg"), d = [];
    root.setAttribute("width", size);
    root.setAttribute("height", size);
    root.setAttribute("viewBox", "0 0 " + size + " " + size);
    root.setAttribute("shape-rendering", "crispEdges");
    var back = document.createElementNS(ns, "rect");
    back.setAttribute("width", size);
    back.setAttribute("height", size);
    back.setAttribute("fill", "#fff");
    root.appendChild(back);
    for (var r = 0; r < n; r++) for (var c = 0; c < n; c++) {
      if (matrix[r][c]) {
        d.push("M" + (c + QUIET) * moduleSize + " " + (r + QUIET) * moduleSize +
               "h" + moduleSize + "v" + moduleSize + "h-" + moduleSize + "z");
      }
    }
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d.join(""));
    path.setAttribute("fill", "#000");
    root.appendChild(path);
    return root;
  }

  window.readerpassQr = {encode: encode};

  var source = document.getElementById("card-batch");
  var holder = document.getElementById("qr");
  if (!source || !holder) return;
  var batch = JSON.parse(source.textContent);
  var status = document.getElementById("qr-status");
  var shown = null;

  function tick() {
    var now = Date.now() / 1000;
    var slot = Math.floor((now - batch.start) / batch.slot_seconds);
    if (slot < 0 || slot >= batch.tokens.length) {
      holder.replaceChildren();
      holder.removeAttribute("data-token");
      status.textContent = "This card's codes have run out: go online and reload the page.";
      shown = null;
      return;
    }
    if (slot !== shown) {
      var text = batch.tokens[slot];
      holder.replaceChildren(svg(encode(text), 6));
      holder.setAttribute("data-token", text);
      holder.setAttribute("data-slot", String(slot));
      shown = slot;
    }
    var left = Math.ceil(batch.start + (slot + 1) * batch.slot_seconds - now);
    status.textContent = "New code in " + left + " s";
  }

  tick();
  window.setInterval(tick, 1000);
})();

#!/usr/bin/env python3
"""Writes the legacy-charset pages of the corpus (windows-1258, TCVN3) from
the UTF-8 text below, so the encoded bytes are reproducible. Run from this
directory: python3 make-legacy.py"""
import subprocess
import unicodedata

ARTICLE = [
    "Huyện Văn Lãng tổng kết mùa thu hoạch hồi",
    "Năm nay, toàn huyện thu hoạch được 1.250 tấn hoa hồi khô, tăng 8% so với năm trước.",
    "Giá hồi khô dao động từ 75.000 đến 80.000 đồng/kg, mang lại thu nhập ổn định cho đồng bào.",
    "Nguyễn Đức Thắng",
]


def cp1258(text):
    """windows-1258 as Vietnamese sites wrote it: base letter (precomposed
    where the code page has it) followed by a combining tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        marks = unicodedata.normalize("NFD", ch)
        base, rest = marks[0], marks[1:]
        # Keep breve, circumflex and horn on the base letter; tones are combining.
        shape = "".join(m for m in rest if m in "\u0302\u0306\u031b")
        rest = "".join(m for m in rest if m not in shape)
        base = unicodedata.normalize("NFC", base + shape)
        out += base.encode("cp1258") + rest.encode("cp1258")
    return bytes(out)


def tcvn3(text):
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", "TCVN5712-1"], input=text.encode(),
                          capture_output=True, check=True).stdout


def page(head, body_open, encode):
    title, *paras = ARTICLE
    body = f"<h1>{title}</h1>\n" + "".join(f"<p>{p}</p>\n" for p in paras[:-1])
    body += f'<p align="right"><b>{paras[-1]}</b></p>\n'
    html = (f"<html>\n<head>\n{head}<title>{title}</title>\n</head>\n{body_open}\n"
            f'<table width="100%"><tr><td class="menu"><a href="/">Trang chủ</a></td></tr>\n'
            f'<tr><td class="noidung">\n{body}</td></tr></table>\n</body>\n</html>\n')
    return encode(html)


with open("charset-windows-1258.html", "wb") as f:
    f.write(page('<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">\n',
                 "<body>", cp1258))
with open("charset-header-only.html", "wb") as f:
    f.write(page("", "<body>", cp1258))
with open("charset-tcvn3.html", "wb") as f:
    f.write(page('<style>body, td { font-family: ".VnTime", serif; }</style>\n',
                 '<body><font face=".VnTime">', tcvn3))

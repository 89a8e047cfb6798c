// UTF-8 byte length of a string without encoding it (history and queue accounting).

/** Returns the number of bytes `TextEncoder` would produce for `text`. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else {
      bytes += 2; // 3 bytes (a lone surrogate becomes U+FFFD, also 3 bytes)
    }
  }
  return bytes;
}

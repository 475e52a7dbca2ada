// SPDX-License-Identifier: Apache-2.0
#include <tomato/wire/extension_p.h>

namespace Tomato {

namespace {
bool isUnreserved(uchar c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
        || c == '.' || c == '_' || c == '~';
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

QString describeByte(uchar c)
{
    return c >= 0x21 && c < 0x7F ? QStringLiteral("'%1' (0x%2)").arg(QChar(c)).arg(c, 2, 16, QLatin1Char('0'))
                                 : QStringLiteral("0x%1").arg(c, 2, 16, QLatin1Char('0'));
}

// Unescapes `in`, the part of `source` at byte `offset`: without escapes the result is a raw
// view into source's (shared, never modified) data, with no allocation. Every byte must be an
// unreserved one or part of a %XX escape (docs/PROTOCOL.md section 4): a receiver refuses the
// rest (an unescaped ':' in a value, a space, a raw UTF-8 byte), so that two implementations
// never read the same bytes differently.
bool unescape(const QByteArray &source, QByteArrayView in, qsizetype offset, QByteArray *out, QString *error)
{
    bool escaped = false;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const uchar c = uchar(in[i]);
        if (isUnreserved(c))
            continue;
        if (c != '%') {
            *error = QStringLiteral("byte %1 at offset %2 of the extension must be percent-escaped")
                         .arg(describeByte(c)).arg(offset + i);
            return false;
        }
        if (i + 2 >= in.size()) {
            *error = QStringLiteral("truncated percent escape at offset %1 of the extension").arg(offset + i);
            return false;
        }
        if (hexValue(in[i + 1]) < 0 || hexValue(in[i + 2]) < 0) {
            *error = QStringLiteral("invalid percent escape at offset %1 of the extension").arg(offset + i);
            return false;
        }
        escaped = true;
        i += 2;
    }
    if (!escaped) {
        *out = in.isEmpty() ? QByteArray() : QByteArray::fromRawData(in.data(), in.size());
        Q_UNUSED(source);
        return true;
    }
    // Every request of a service carries the same escaped name ("Sample%3A%3AEchoService"):
    // the last few unescaped ones are kept per thread and shared, not made again per call.
    struct Recent
    {
        QByteArray escaped, unescaped;
    };
    thread_local Recent recent[4];
    thread_local unsigned next = 0;
    for (const Recent &r : recent) {
        if (!r.escaped.isNull() && QByteArrayView(r.escaped) == in) {
            *out = r.unescaped;
            return true;
        }
    }
    // Written through a pointer into one allocation of the escaped size: every call's
    // `service` is escaped ("Sample%3A%3AEchoService"), and append() per byte cost more than
    // the rest of the extension's decoding together.
    out->resize(in.size());
    char *d = out->data();
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c != '%') {
            *d++ = c;
            continue;
        }
        *d++ = char(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2]));
        i += 2;
    }
    out->truncate(d - out->constData());
    if (in.size() <= 128) {
        Recent &slot = recent[next++ % 4];
        slot.escaped = in.toByteArray();
        slot.unescaped = *out;
    }
    return true;
}
} // namespace

void Extension::insert(const QByteArray &key, const QByteArray &value)
{
    m_entries.append({key, value});
}

QByteArray Extension::value(QByteArrayView key, const QByteArray &fallback) const
{
    for (const auto &e : m_entries) {
        if (e.first == key)
            return QByteArray(e.second.constData(), e.second.size()); // detached from m_source
    }
    return fallback;
}

QByteArrayView Extension::view(QByteArrayView key) const
{
    for (const auto &e : m_entries) {
        if (e.first == key)
            return e.second;
    }
    return {};
}

bool Extension::contains(QByteArrayView key) const
{
    for (const auto &e : m_entries) {
        if (e.first == key)
            return true;
    }
    return false;
}

void Extension::escapeTo(QByteArrayView raw, QByteArray &out)
{
    static const char hex[] = "0123456789ABCDEF";
    // Runs of unreserved bytes (names, numbers: most of any extension) go in one append.
    qsizetype run = 0;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const uchar c = uchar(raw[i]);
        if (isUnreserved(c))
            continue;
        out.append(raw.data() + run, i - run);
        const char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        out.append(esc, 3);
        run = i + 1;
    }
    out.append(raw.data() + run, raw.size() - run);
}

void Extension::encodeTo(QByteArray &out) const
{
    bool first = true;
    for (const auto &e : m_entries) {
        if (!first)
            out.append('&');
        first = false;
        escapeTo(e.first, out);
        out.append(':');
        escapeTo(e.second, out);
    }
}

QByteArray Extension::encode() const
{
    QByteArray out;
    encodeTo(out);
    return out;
}

bool Extension::decode(const QByteArray &source, Extension *out, QString *error)
{
    out->m_entries.clear();
    out->m_source = source;
    const QByteArrayView bytes(out->m_source);
    if (bytes.isEmpty())
        return true;
    qsizetype start = 0;
    while (start <= bytes.size()) {
        qsizetype end = bytes.indexOf('&', start);
        if (end < 0)
            end = bytes.size();
        const QByteArrayView entry = bytes.sliced(start, end - start);
        const qsizetype colon = entry.indexOf(':');
        if (colon < 0) {
            *error = QStringLiteral("extension entry without ':' at byte %1").arg(start);
            return false;
        }
        QByteArray key;
        QByteArray value;
        if (!unescape(out->m_source, entry.first(colon), start, &key, error)
            || !unescape(out->m_source, entry.sliced(colon + 1), start + colon + 1, &value, error))
            return false;
        out->m_entries.append({std::move(key), std::move(value)});
        start = end + 1;
    }
    return true;
}

} // namespace Tomato

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

// Unescapes `in`, a part of `source`: without escapes the result is a raw view into
// source's (shared, never modified) data, with no allocation.
bool unescape(const QByteArray &source, QByteArrayView in, QByteArray *out, QString *error)
{
    if (!in.contains('%')) {
        *out = in.isEmpty() ? QByteArray() : QByteArray::fromRawData(in.data(), in.size());
        Q_UNUSED(source);
        return true;
    }
    out->clear();
    out->reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c != '%') {
            out->append(c);
            continue;
        }
        if (i + 2 >= in.size()) {
            *error = QStringLiteral("truncated percent escape in extension");
            return false;
        }
        const int hi = hexValue(in[i + 1]);
        const int lo = hexValue(in[i + 2]);
        if (hi < 0 || lo < 0) {
            *error = QStringLiteral("invalid percent escape in extension");
            return false;
        }
        out->append(char(hi * 16 + lo));
        i += 2;
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
        if (!unescape(out->m_source, entry.first(colon), &key, error)
            || !unescape(out->m_source, entry.sliced(colon + 1), &value, error))
            return false;
        out->m_entries.append({std::move(key), std::move(value)});
        start = end + 1;
    }
    return true;
}

} // namespace Tomato

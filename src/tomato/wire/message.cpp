// SPDX-License-Identifier: Apache-2.0
#include <tomato/wire/message_p.h>

#include <limits>

namespace Tomato {

FrameBuilder::FrameBuilder(qsizetype reserve)
{
    // One allocation: reserving after sizing would be a second.
    m_bytes.reserve(Frame::HeaderSize + qMax<qsizetype>(reserve, 0));
    m_bytes.resize(Frame::HeaderSize);
}

void FrameBuilder::addEncoded(QByteArrayView entries)
{
    Q_ASSERT(m_extensionSize < 0);
    if (m_bytes.size() > Frame::HeaderSize)
        m_bytes += '&';
    m_bytes.append(entries.data(), entries.size());
}

void FrameBuilder::add(const char *key, QByteArrayView value)
{
    Q_ASSERT(m_extensionSize < 0);
    if (m_bytes.size() > Frame::HeaderSize)
        m_bytes += '&';
    Extension::escapeTo(key, m_bytes);
    m_bytes += ':';
    Extension::escapeTo(value, m_bytes);
}

void FrameBuilder::addNumber(const char *key, qint64 value)
{
    // Digits never need escaping; written from the stack, not through QByteArray::number().
    char digits[24];
    char *end = digits + sizeof(digits);
    char *p = end;
    quint64 magnitude = value < 0 ? quint64(0) - quint64(value) : quint64(value);
    do {
        *--p = char('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        *--p = '-';
    add(key, QByteArrayView(p, end - p));
}

QByteArray &FrameBuilder::body()
{
    if (m_extensionSize < 0)
        m_extensionSize = m_bytes.size() - Frame::HeaderSize;
    return m_bytes;
}

qsizetype FrameBuilder::bodySize() const
{
    return m_extensionSize < 0 ? 0 : m_bytes.size() - Frame::HeaderSize - m_extensionSize + m_tail.size();
}

void FrameBuilder::compressBody(Compression::Kind kind, qsizetype threshold)
{
    body();
    if (kind == Compression::Kind::None || bodySize() < threshold)
        return;
    m_bytes.append(m_tail);
    m_tail.clear();
    const qsizetype bodyStart = Frame::HeaderSize + m_extensionSize;
    const QByteArray packed = Compression::compress(kind, QByteArrayView(m_bytes).sliced(bodyStart));
    m_bytes.truncate(bodyStart);
    m_extensionSize = -1;
    add(ExtensionKey::Compression, Compression::name(kind));
    body() += packed;
}

QByteArray FrameBuilder::finish(quint16 command, quint8 serialization, quint64 messageId)
{
    body();
    Frame::writeHeader(reinterpret_cast<uchar *>(m_bytes.data()), command, serialization, messageId,
                       quint32(m_extensionSize), quint32(bodySize()));
    return std::move(m_bytes);
}

namespace Message {

QByteArray errorResponse(quint64 messageId, quint8 serialization, RpcError::Code code,
                         const QString &message, const QString &exceptionType)
{
    FrameBuilder b;
    b.addNumber(ExtensionKey::Code, int(code));
    b.add(ExtensionKey::Message, message.toUtf8());
    if (!exceptionType.isEmpty() && code == RpcError::ApplicationException) // only there (section 4)
        b.add(ExtensionKey::ExceptionType, exceptionType.toUtf8());
    return b.finish(Frame::Response, serialization, messageId);
}

QByteArray errorFrame(RpcError::Code code, const QString &message, quint64 messageId)
{
    FrameBuilder b;
    b.addNumber(ExtensionKey::Code, int(code));
    b.add(ExtensionKey::Message, message.toUtf8());
    return b.finish(Frame::Error, 0, messageId);
}

QByteArray emptyFrame(quint16 command, quint64 messageId, quint8 serialization)
{
    QByteArray out;
    Frame::encode(out, command, serialization, messageId, {}, {});
    return out;
}

namespace {
bool readCompression(const Extension &ext, Compression::Kind *out, QString *error)
{
    const QByteArrayView name = ext.view(ExtensionKey::Compression);
    if (name.isEmpty())
        return true;
    if (!Compression::fromName(name, out)) {
        *error = QStringLiteral("compression '%1' is not supported (gzip, zstd)").arg(QString::fromUtf8(name));
        return false;
    }
    return true;
}
} // namespace

// timeout-ms (docs/PROTOCOL.md section 4): one or more ASCII digits and nothing else (no
// sign, no space; leading zeros allowed), at least 1, at most 2^63 - 1. Empty is refused: a
// caller without a deadline leaves the key out.
static bool parseTimeoutMs(QByteArrayView text, qint64 *out)
{
    if (text.isEmpty())
        return false;
    qint64 value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return false;
        const int digit = c - '0';
        if (value > (std::numeric_limits<qint64>::max() - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *out = value;
    return value >= 1;
}

bool readRequest(const Extension &ext, RequestHeader *out, RpcError::Code *code, QString *error)
{
    out->service = ext.view(ExtensionKey::Service);
    out->method = ext.view(ExtensionKey::Method);
    if (out->service.isEmpty() || out->method.isEmpty()) {
        // Not UnknownService: no other instance would know it either, so nothing to retry.
        *code = RpcError::BadRequest;
        *error = QStringLiteral("a Request needs a non-empty '%1'")
                     .arg(QLatin1String(out->service.isEmpty() ? ExtensionKey::Service : ExtensionKey::Method));
        return false;
    }
    if (!readCompression(ext, &out->compression, error)) {
        *code = RpcError::UnsupportedCompression;
        return false;
    }
    if (!ext.contains(ExtensionKey::TimeoutMs))
        return true;
    const QByteArrayView timeout = ext.view(ExtensionKey::TimeoutMs);
    if (!parseTimeoutMs(timeout, &out->timeoutMs)) {
        *code = RpcError::BadRequest;
        *error = QStringLiteral("timeout-ms '%1' is not a positive decimal integer (digits only)")
                     .arg(QString::fromUtf8(timeout));
        return false;
    }
    return true;
}

bool readResponse(const Extension &ext, ResponseHeader *out, QString *error)
{
    bool ok = false;
    const int code = ext.view(ExtensionKey::Code).toInt(&ok);
    if (!ok) {
        *error = QStringLiteral("response without a code");
        return false;
    }
    // Range first: quint16(65536) would read as 0, a success.
    const bool known = code >= 0 && code <= 0xFFFF && RpcError::isKnownCode(quint16(code));
    out->code = known ? RpcError::Code(code) : RpcError::Internal;
    if (out->code != RpcError::Ok) {
        out->message = QString::fromUtf8(ext.view(ExtensionKey::Message));
        // exception-type belongs to ApplicationException alone (docs/PROTOCOL.md section 4).
        if (code == RpcError::ApplicationException)
            out->exceptionType = QString::fromUtf8(ext.view(ExtensionKey::ExceptionType));
        if (!known)
            out->message = QStringLiteral("code %1 (unknown here): %2").arg(code).arg(out->message);
        return true;
    }
    return readCompression(ext, &out->compression, error);
}

bool decompressBody(Compression::Kind kind, QByteArray &body, qint64 maxBytes, QString *error)
{
    if (kind == Compression::Kind::None)
        return true;
    QByteArray plain;
    if (!Compression::decompress(kind, body, maxBytes, &plain, error))
        return false;
    body = std::move(plain);
    return true;
}

} // namespace Message
} // namespace Tomato

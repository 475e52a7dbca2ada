// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/compression/codec_p.h>
#include <tomato/core/rpcerror.h>
#include <tomato/wire/extension_p.h>
#include <tomato/wire/frame_p.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace Tomato {

// The protocol's message steps that both sides share (docs/PROTOCOL.md): frames assembled
// in place, the extension entries of requests and responses, body compression.
// Stateless functions and plain values; any thread.

// Assembles one frame in a single buffer: a placeholder header, the extension entries, then
// the body, so that a body encoded straight into the buffer is never copied again.
// finish() writes the header and hands the frame out: a builder makes one frame. One thread
// at a time.
class FrameBuilder
{
public:
    explicit FrameBuilder(qsizetype reserve = 0); // bytes expected after the header
    // Appends one extension entry, escaped (docs/PROTOCOL.md, "Extension").
    void add(const char *key, QByteArrayView value);
    void addNumber(const char *key, qint64 value);
    // Appends entries already in the wire form ("service:Sample%3A%3AEcho&method:echo").
    void addEncoded(QByteArrayView entries);
    // Ends the extension; the body is appended to the returned buffer.
    QByteArray &body();
    // The end of the body kept in a buffer of its own, not copied in: a large byte array
    // (Marshal's `tail`), shared with its owner. It is sent after the frame's bytes
    // (Outbox::post with a tail).
    QByteArray &tail() { return m_tail; }
    QByteArray takeTail() { return std::move(m_tail); }
    qsizetype bodySize() const; // with the tail
    qsizetype size() const { return m_bytes.size() + m_tail.size(); }
    // Compresses the body in place when `kind` is not None and the body has at least
    // `threshold` bytes, and says so in the extension (compression:<name>). A tail is
    // compressed with the rest (it is then part of the frame's bytes).
    void compressBody(Compression::Kind kind, qsizetype threshold);
    // Writes the header (its length counts the tail) and hands the frame's bytes out; the
    // tail, if any, is taken with takeTail().
    QByteArray finish(quint16 command, quint8 serialization, quint64 messageId);

private:
    QByteArray m_bytes;
    QByteArray m_tail;
    qsizetype m_extensionSize = -1; // -1 while entries may still be added
};

namespace Message {

// A Response frame that answers a call with an error.
QByteArray errorResponse(quint64 messageId, quint8 serialization, RpcError::Code code,
                         const QString &message, const QString &exceptionType = {});
// An Error frame: the connection is unusable and the sender closes it after this frame.
QByteArray errorFrame(RpcError::Code code, const QString &message, quint64 messageId = 0);
// A frame without extension and body (KeepAliveRequest/Response, Cancel).
QByteArray emptyFrame(quint16 command, quint64 messageId, quint8 serialization = 0);

// What a Request's extension says. The views point into the Extension it was read from.
struct RequestHeader
{
    QByteArrayView service;
    QByteArrayView method;
    qint64 timeoutMs = -1;     // -1: no deadline
    Compression::Kind compression = Compression::Kind::None;
};
// False, with the code and text to answer, for a request that must be refused.
bool readRequest(const Extension &ext, RequestHeader *out, RpcError::Code *code, QString *error);

// What a Response's (or an Error frame's) extension says.
struct ResponseHeader
{
    RpcError::Code code = RpcError::Ok;
    QString message;
    QString exceptionType;
    Compression::Kind compression = Compression::Kind::None;
};
// False (and *error) when the extension is not one a server may send: no code, unknown
// compression. A code this side does not know becomes Internal.
bool readResponse(const Extension &ext, ResponseHeader *out, QString *error);

// Decompresses a body in place, bounded by maxBytes (a small frame cannot expand without
// bound). False, *error set, for corrupt or oversized input.
bool decompressBody(Compression::Kind kind, QByteArray &body, qint64 maxBytes, QString *error);

} // namespace Message
} // namespace Tomato

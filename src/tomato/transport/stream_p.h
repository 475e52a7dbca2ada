// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>
#include <QtCore/QString>
#include <limits>
#include <memory>

namespace Tomato {

class FrameParser;

// The write side of a connected stream that any thread may use: the Outbox's fast path, by
// which a business thread sends its answer (or a caller its request) straight to the kernel.
// Owned jointly by the stream and the Outbox; the descriptor closes when the last holder lets
// go, so its number can never be reused for another connection while a writer still has it
// (one descriptor per connection, no duplicate needed).
class DirectWriter
{
public:
    explicit DirectWriter(int descriptor) : m_descriptor(descriptor) { }
    virtual ~DirectWriter();
    DirectWriter(const DirectWriter &) = delete;
    DirectWriter &operator=(const DirectWriter &) = delete;
    // Thread-safe. The bytes taken, maybe fewer than `size` when the kernel's buffer is full
    // (wait for `descriptor()` to be writable, then write the rest), or -1 when broken.
    // Bytes taken are the writer's: nothing of them is offered again.
    virtual qint64 write(const char *data, qint64 size) = 0;
    // The same for two pieces that make one run of bytes (a frame's head and a large payload
    // it refers to, not copied into it): the bytes taken from both together.
    virtual qint64 writeParts(const char *head, qint64 headSize, const char *tail, qint64 tailSize);
    int descriptor() const { return m_descriptor; }
    // Bytes a writer took but has not handed to the kernel yet (TLS: records encrypted when
    // the kernel's buffer filled). They go first on the next write(); write(nullptr, 0) sends
    // only them. Until backlog() is 0, wait for `descriptor()` to be writable and call again.
    virtual qint64 backlog() const { return 0; }

protected:
    const int m_descriptor;
};
using SharedWriter = std::shared_ptr<DirectWriter>;
// Plain sockets: send(2) on the descriptor, which it closes at the end.
SharedWriter makeSocketWriter(int descriptor);

// One connected byte stream of some transport (TCP, TLS, a Unix socket), as the protocol
// layer sees it. A Transport creates it on the I/O thread that owns it for life; only that
// thread calls it. Parent: the connection that uses it.
//
// Life: (connecting, handshaking) -> ready -> ... -> closed. isReady() may be true at once (an
// accepted TCP or Unix connection); otherwise ready() follows, or closed() when the stream
// never came up (errorString() says why). closed() is emitted at most once, for an end the
// stream noticed by itself (the peer left, an error, a handshake that failed or took too
// long); an end that readInto() reports by returning false is not signalled again.
class Stream : public QObject
{
    Q_OBJECT
public:
    explicit Stream(QObject *parent = nullptr);
    ~Stream() override;

    bool isReady() const { return m_ready; }
    bool isClosed() const { return m_closed; }
    // Why the stream closed or never came up.
    QString errorString() const { return m_error; }

    // Moves what has arrived, at most `maxBytes`, into the parser, straight into its buffer
    // where the backend can. False once the peer has finished sending or the stream broke.
    // What is left waits: in the kernel (readyRead() comes again), or, when hasBufferedInput(),
    // inside the stream for the next call.
    virtual bool readInto(FrameParser &parser, qint64 maxBytes = NoLimit) = 0;
    virtual bool hasBufferedInput() const { return false; }
    static constexpr qint64 NoLimit = std::numeric_limits<qint64>::max();
    // Writes on the I/O thread: the bytes taken, maybe fewer than `size` (writable() follows
    // once more can be taken), or -1 when the stream is broken.
    virtual qint64 write(const char *data, qint64 size) = 0;
    // A writer that other threads may send whole frames through directly (the Outbox's fast
    // path: TCP and Unix sockets, TLS once its handshake is done), or null when every byte
    // must go through write() on the I/O thread. Null too once the stream is closed.
    virtual SharedWriter directWriter() const { return {}; }
    // Closes once what write() took has gone out / at once.
    virtual void close() = 0;
    virtual void abort() = 0;
    // Who is at the other end, for logs and the call context: "tcp://10.0.0.5:51234",
    // "tls://...", "unix (pid 42, uid 1000)".
    virtual QString peer() const = 0;
    // The subject of the peer's verified certificate ("CN=client-a,O=Acme") and its common
    // name; empty when the peer has none (not TLS, or no client certificate was asked for).
    virtual QString peerSubject() const { return {}; }
    virtual QString peerCommonName() const { return {}; }

Q_SIGNALS:
    void ready();
    void readyRead();
    void writable();
    void closed();

protected:
    void markReady();                      // emits ready() once
    void markClosed(const QString &why);   // emits closed() once; no-op once closed
    void markEnded(const QString &why);    // closed, without a signal (readInto's caller knows)

private:
    QString m_error;
    bool m_ready = false;
    bool m_closed = false;
};

} // namespace Tomato

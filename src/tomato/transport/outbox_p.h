// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/transport/bufferbudget_p.h>
#include <tomato/transport/stream_p.h>

#include <QtCore/QByteArray>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <functional>

class QSocketNotifier;

namespace Tomato {

// The write side of one connection, shared between the connection (on its I/O thread) and
// any thread that sends frames through it (business threads answering calls, callers).
//
// Two ways out, chosen per post:
// - Write now: when the poster says nothing else is about to follow (a lone call, the last
//   answer a connection owes), nothing is queued and the stream offers a direct writer (TCP,
//   Unix sockets and TLS do), the frame goes straight to the kernel from the posting thread
//   (encrypted there, for TLS), under the outbox lock: no hop to the I/O thread and no
//   wake-up. What the kernel does not take stays queued for the I/O thread.
// - Batch: otherwise the frame is queued, and the first post into an empty queue schedules
//   one flush on the I/O thread; posts before that flush ride along, so a burst of frames
//   costs one wake-up and one write.
// Frames never interleave: a write-now post finds the queue empty or queues behind it.
// Before a stream is attached (a client still connecting) every post queues.
//
// The direct path writes through the stream's DirectWriter, which the outbox holds a share of
// until detach()/close(): a stream that lets go of it first (a peer that shut down its sending
// side still gets its answers) cannot have its descriptor reused under a writer's feet.
// Queued bytes go out through the same writer, on the I/O thread.
// Thread-safe. Once closed (the connection is gone) posts are refused.
class Outbox
{
public:
    // `owner` lives on the I/O thread and runs `flush` there; both must outlive close().
    Outbox(QObject *owner, std::function<void()> flush);
    ~Outbox();
    Outbox(const Outbox &) = delete;
    Outbox &operator=(const Outbox &) = delete;

    enum class When { Batch, WriteNow };
    // Queues or writes the frame. False when the outbox is closed.
    bool post(QByteArray &&frame, When when = When::Batch);
    // The same for a frame in two pieces: its head, then a large payload the head's length
    // counts but that was not copied into it (a byte array result). Written at once, the
    // payload is never copied; what must wait is queued as one piece.
    bool post(QByteArray &&head, QByteArray &&tail, When when);

    // I/O thread: write to this ready stream from now on / stop (the stream is gone; what was
    // queued for it is dropped).
    void attach(Stream *stream);
    void detach();

    enum class FlushResult { Done, Blocked, Failed, NoStream };
    // I/O thread: writes what is queued. Blocked: the stream takes no more for now; call
    // flush again when it can (see OutboxWriter). Failed: the connection is broken.
    FlushResult flush();
    qsizetype pendingBytes() const; // queued, or taken by the writer but not yet sent (its backlog)
    // The descriptor of the direct path, -1 without one. I/O thread.
    qintptr directDescriptor() const;
    // Any thread: have the owner's flush run soon (it also re-checks flow control).
    void scheduleFlush();

    // Queued bytes count against this account's budget from now on (a server's answers;
    // max-buffered-bytes), until close(). Before the first post; the account must outlive close().
    void setAccount(BudgetAccount *account);

    // I/O thread: the connection ends with `last` (an Error frame). What is queued behind the
    // frame being written is dropped (the rest of that frame still goes, so the peer can parse
    // on), `last` follows it, and posts are refused from now on. The owner keeps flushing
    // until pendingBytes() is 0, then closes.
    void finish(QByteArray &&last);
    // I/O thread, before the owner dies.
    void close();
    bool isClosed() const;

private:
    void scheduleLocked();
    void enqueueLocked(QByteArray &&bytes);
    qint64 writeLocked(const char *data, qsizetype size);
    void dropPendingLocked();
    void consumedLocked(qsizetype written);
    void countLocked(qint64 delta)
    {
        if (m_account)
            m_account->addAnswerBytes(delta);
    }

    mutable QMutex m_mutex;
    QObject *m_owner;
    std::function<void()> m_flush;
    QByteArray m_pending;
    // Bytes at the front of m_pending that end a frame whose start was written already (0: it
    // starts with a whole frame). m_pending holds whole frames after them.
    qsizetype m_headTail = 0;
    BudgetAccount *m_account = nullptr;
    Stream *m_stream = nullptr; // used on the I/O thread only
    SharedWriter m_direct;      // our share of the stream's direct writer, if it has one
    bool m_scheduled = false;
    bool m_failed = false;
    bool m_closed = false;
    bool m_finishing = false; // finish(): nothing more is taken
};

// The I/O thread's half of writing: flushes an outbox and, while its stream takes no more,
// waits until it can (a write notifier on the direct descriptor, or the stream's writable()
// signal) and flushes again. Owned by the connection, on its I/O thread.
class OutboxWriter
{
public:
    OutboxWriter() = default;
    ~OutboxWriter();
    OutboxWriter(const OutboxWriter &) = delete;
    OutboxWriter &operator=(const OutboxWriter &) = delete;

    // Writes what is queued; `retry` runs (on owner's thread) when a blocked write may go on.
    // False when the connection is broken.
    bool flush(Outbox &outbox, Stream *stream, QObject *owner, const std::function<void()> &retry);
    // Stops watching, before the outbox's descriptor is closed.
    void stop();

private:
    QSocketNotifier *m_writable = nullptr;
    QMetaObject::Connection m_streamWritable;
};

} // namespace Tomato

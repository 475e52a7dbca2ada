#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <functional>

namespace Tomato {

// The write side of one connection, shared between the connection (on its I/O thread) and
// any thread that sends frames through it (business threads answering calls, callers).
//
// Two ways out, chosen per post:
// - Write now: when the poster says nothing else is about to follow (a lone call, the last
//   answer a connection owes) and nothing is queued, the frame goes straight to the kernel
//   from the posting thread, under the outbox lock: no hop to the I/O thread and no
//   wake-up. What the kernel does not take stays queued for the I/O thread.
// - Batch: otherwise the frame is queued, and the first post into an empty queue schedules
//   one flush on the I/O thread; posts before that flush ride along, so a burst of frames
//   costs one wake-up and one write.
// Frames never interleave: a write-now post finds the queue empty or queues behind it.
// Before a socket is attached (a client still connecting) every post queues.
//
// The outbox writes through its own duplicate of the socket descriptor, closed only by
// detachSocket()/close(), so a descriptor number that Qt closed can never be reused under a
// writer's feet. Thread-safe. Once closed (the connection is gone) posts are refused.
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

    // I/O thread: start writing to this connected socket / stop (the socket is gone).
    // Detaching drops what was queued for it.
    void attachSocket(qintptr descriptor);
    void detachSocket();

    enum class FlushResult { Done, Blocked, Failed, NoSocket };
    // I/O thread: writes what is queued. Blocked: the kernel buffer is full, flush again when
    // the socket is writable. Failed: the connection is broken.
    FlushResult flush();
    qintptr descriptor() const;
    qsizetype pendingBytes() const; // queued, not yet taken by the kernel
    // Any thread: have the owner's flush run soon (it also re-checks flow control).
    void scheduleFlush();

    // I/O thread, before the owner dies.
    void close();
    bool isClosed() const;

private:
    void scheduleLocked();
    bool writeLocked(const char *data, qsizetype size, qsizetype *written);

    mutable QMutex m_mutex;
    QObject *m_owner;
    std::function<void()> m_flush;
    QByteArray m_pending;
    int m_fd = -1;            // our duplicate of the socket descriptor
    bool m_scheduled = false;
    bool m_failed = false;
    bool m_closed = false;
};

} // namespace Tomato

#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <functional>

namespace Tomato {

// The write queue of one connection, shared between the connection (on its I/O thread) and
// any thread that sends frames through it (business threads answering calls, callers).
// Posting appends the encoded frame and wakes the I/O thread once per batch: the first post
// into an empty queue schedules one flush; later posts before that flush ride along. So a
// burst of frames costs one event-loop wake-up and one socket write.
// Thread-safe. Once closed (the connection is gone) posts are refused.
class Outbox
{
public:
    // `owner` lives on the I/O thread and runs `flush` there; both must outlive open().
    Outbox(QObject *owner, std::function<void()> flush);

    // Appends bytes. False when the outbox is closed.
    bool post(QByteArray &&frame);
    bool post(QByteArrayView frame);
    // I/O thread: takes everything queued and re-arms the wake-up.
    QByteArray take();
    // I/O thread, before the owner dies.
    void close();
    bool isClosed() const;

private:
    void scheduleLocked();

    mutable QMutex m_mutex;
    QObject *m_owner;
    std::function<void()> m_flush;
    QByteArray m_pending;
    bool m_scheduled = false;
    bool m_closed = false;
};

} // namespace Tomato

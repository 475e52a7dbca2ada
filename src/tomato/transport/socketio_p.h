#pragma once
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/frameparser.h>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QTcpSocket>

namespace Tomato {

// Moves everything an unbuffered socket has into the parser, reading straight into the
// parser's buffer. Called on the socket's I/O thread from readyRead. An unbuffered
// QTcpSocket needs a read() after every readyRead (it re-arms the notifier) and reports the
// peer's close only as a failed read, without emitting disconnected(): so this always
// reads at least once and returns false when the connection is gone.
inline bool readAvailable(QTcpSocket &socket, FrameParser &parser)
{
    while (true) {
        const qint64 want = qMax<qint64>(socket.bytesAvailable(), 1);
        char *space = parser.appendSpace(want);
        const qint64 n = socket.read(space, want);
        parser.commitAppend(n);
        if (n < 0)
            return false;
        if (n < want)
            return true;
    }
}

// Writes what the outbox holds and, while the kernel buffer is full, watches the outbox's
// descriptor for writability (the watcher is created on first need, as a child of `owner`,
// and calls `retry`). Returns false when the connection is broken. I/O thread only.
inline bool flushOutbox(Outbox &outbox, QObject *owner, QSocketNotifier *&writable,
                        const std::function<void()> &retry)
{
    const Outbox::FlushResult result = outbox.flush();
    if (result == Outbox::FlushResult::Failed)
        return false;
    const bool blocked = result == Outbox::FlushResult::Blocked;
    if (blocked && !writable) {
        writable = new QSocketNotifier(outbox.descriptor(), QSocketNotifier::Write, owner);
        QObject::connect(writable, &QSocketNotifier::activated, owner, retry);
    }
    if (writable)
        writable->setEnabled(blocked);
    return true;
}

// Stops watching before the outbox's descriptor is closed.
inline void stopWatching(QSocketNotifier *&writable)
{
    delete writable;
    writable = nullptr;
}

} // namespace Tomato

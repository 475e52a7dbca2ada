#pragma once
#include <tomato/wire/frameparser.h>
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

} // namespace Tomato

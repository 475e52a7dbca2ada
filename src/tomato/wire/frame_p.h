// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace Tomato {

// The Tomato-RPC frame (docs/PROTOCOL.md), big-endian:
//   magic 0xAC (1) | length (4) | version (4) | extension length (4) | command (2) |
//   serialization (1) | message id (8) | extension | body
// `length` counts every byte after the length field itself.
// A plain value; the byte arrays are implicitly shared, so copies are cheap.
struct Frame
{
    static constexpr quint8 Magic = 0xAC;
    static constexpr quint32 CurrentVersion = 1;
    static constexpr int HeaderSize = 24;     // magic through message id
    static constexpr int LengthCovered = 19;  // header bytes counted by `length`

    enum Command : quint16 {
        Request = 1,
        Response = 2,
        KeepAliveRequest = 3,
        KeepAliveResponse = 4,
        Cancel = 5,
        Error = 6, // connection-level error: the sender closes the connection after it
        // Remote signals (docs/SIGNALS.md): a client subscribes to a signal of a service (the
        // server answers with a Response of the same id), events follow with that id, and
        // either side ends the subscription.
        Subscribe = 7,
        Unsubscribe = 8,
        Event = 9,
    };

    quint32 version = CurrentVersion;
    quint16 command = Request;
    quint8 serialization = 0;
    quint64 messageId = 0;
    QByteArray extension; // encoded with Extension (percent-escaped k:v&k:v)
    QByteArray body;

    // Appends the encoded frame to out.
    static void encode(QByteArray &out, quint16 command, quint8 serialization, quint64 messageId,
                       QByteArrayView extension, QByteArrayView body,
                       quint32 version = CurrentVersion);
    void encodeTo(QByteArray &out) const
    {
        encode(out, command, serialization, messageId, extension, body, version);
    }
    // Writes a header at p (HeaderSize bytes) for a frame whose extension and body follow it.
    // Lets a sender encode extension and body straight into the frame buffer after a
    // placeholder header, instead of copying a separately encoded body.
    static void writeHeader(uchar *p, quint16 command, quint8 serialization, quint64 messageId,
                            quint32 extensionSize, quint32 bodySize,
                            quint32 version = CurrentVersion);
    // Total encoded size of a frame with these parts.
    static qint64 encodedSize(qsizetype extensionSize, qsizetype bodySize)
    {
        return HeaderSize + qint64(extensionSize) + qint64(bodySize);
    }
};

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>

namespace Chat {

// One message of a room, as the room server numbered and stamped it.
struct Message
{
    Q_GADGET
    Q_PROPERTY(int number MEMBER number)
    Q_PROPERTY(QString author MEMBER author)
    Q_PROPERTY(QString text MEMBER text)
    Q_PROPERTY(QDateTime at MEMBER at)
public:
    int number = 0; // 1, 2, ... per room server
    QString author;
    QString text;
    QDateTime at; // UTC, set by the server

    bool operator==(const Message &o) const
    {
        return number == o.number && author == o.author && text == o.text && at == o.at;
    }
};

// A chat room (docs/SIGNALS.md): messagePosted is a remote signal, delivered to every client
// connected to it.
class RoomService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "chat-room-service")
public:
    using QObject::QObject;
    // Posts a message; every subscriber gets messagePosted. Returns its number.
    Q_INVOKABLE virtual int send(const QString &author, const QString &text) = 0;
    // The last `count` messages, oldest first (a window that joins late shows them).
    Q_INVOKABLE virtual QList<Chat::Message> history(int count) = 0;

Q_SIGNALS:
    void messagePosted(const Chat::Message &message);
};

} // namespace Chat

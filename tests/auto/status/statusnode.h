// SPDX-License-Identifier: Apache-2.0
#pragma once
// For the status tests against a real RpcServer: one HTTP request over a raw socket of any
// transport (RawClient), its answer read with a deadline, and a server of Test::TestService.
// Test thread only.
#include "rawclient.h"
#include "testserviceimpl.h"

#include <tomato/server/rpcserver.h>

#include <QtCore/QJsonDocument>

#include <memory>
#include <optional>

namespace StatusTest {

using Tomato::Endpoint;
using Tomato::RpcConfig;
using Tomato::RpcServer;

struct HttpAnswer
{
    int status = 0;
    QByteArray head; // status line and headers
    QByteArray body;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const int colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
};

// Reads one HTTP answer (with Content-Length) from the socket, or nothing before the deadline.
inline std::optional<HttpAnswer> readAnswer(QTcpSocket &socket, QByteArray &buffer, int ms = 5000)
{
    QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired()) {
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end >= 0) {
            HttpAnswer a;
            a.head = buffer.left(end);
            a.status = a.head.mid(9, 3).toInt();
            const qsizetype length = a.header("Content-Length").toLongLong();
            if (buffer.size() >= end + 4 + length) {
                a.body = buffer.mid(end + 4, length);
                buffer.remove(0, end + 4 + length);
                return a;
            }
        }
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            return std::nullopt;
        buffer += socket.readAll();
    }
    return std::nullopt;
}

inline std::optional<HttpAnswer> get(const Endpoint &address, const QByteArray &target, const QString &ca = {})
{
    RawClient raw;
    if (!raw.connectTo(address, ca))
        return std::nullopt;
    raw.write("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
    QByteArray buffer;
    return readAnswer(raw.socket(), buffer);
}

inline QJsonDocument json(const std::optional<HttpAnswer> &a)
{
    return a ? QJsonDocument::fromJson(a->body) : QJsonDocument();
}

// A server of Test::TestService on loopback (tcp unless said), a client of it.
struct Node
{
    explicit Node(RpcConfig config = {})
    {
        if (config.listen().isEmpty())
            config.setHost(QStringLiteral("127.0.0.1"));
        config.setMicroServiceId(QStringLiteral("test-service"));
        server = std::make_unique<RpcServer>(config);
        server->publish<Test::TestService>(&impl);
    }
    Endpoint address() const { return server->addresses().constFirst(); }
    Test::Gates gates;
    Test::TestServiceImpl impl{&gates};
    std::unique_ptr<RpcServer> server;
};

} // namespace StatusTest

// SPDX-License-Identifier: Apache-2.0
// tomato-chat-server: a chat room. Publishes Chat::RoomService; every message posted is
// emitted as the remote signal messagePosted to the windows connected to it (docs/SIGNALS.md).
//
//   tomato-chat-server --tomato-rpc.name-service-uri=zookeeper://127.0.0.1:2181 [--tomato-rpc.<key>=<value>...]
//
// Configuration as in docs/CONFIGURATION.md (defaults here: micro-service-id
// chat-room-service, port 4575); with name-service-uri set it registers in that registry,
// where tomato-chat finds it. Prints "READY <host>:<port> ..." once it accepts calls, a
// "POSTED <number> <author>: <text>" line per message, and stops gracefully on SIGINT and
// SIGTERM (unregisters, drains, closes the registry session).
#include "roomservice.h"

#include <tomato/core/version.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QMutex>
#include <QtCore/QSocketNotifier>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// The room: its messages in memory, the last `kept` of them. Methods run on the business
// pool, several at once; one lock numbers, stores and emits a message, so that subscribers
// get the messages in the order of their numbers.
class RoomServiceImpl : public Chat::RoomService
{
public:
    static constexpr int kept = 1000;
    static constexpr int maxText = 2000;

    int send(const QString &author, const QString &text) override
    {
        const QString who = author.trimmed();
        if (who.isEmpty())
            throw std::invalid_argument("a message needs an author");
        if (text.trimmed().isEmpty())
            throw std::invalid_argument("an empty message is not sent");
        if (text.size() > maxText)
            throw std::invalid_argument("a message has at most 2000 characters");
        QMutexLocker lock(&m_mutex);
        const Chat::Message m{++m_count, who, text, QDateTime::currentDateTimeUtc()};
        m_messages.push_back(m);
        if (m_messages.size() > kept)
            m_messages.pop_front();
        std::printf("POSTED %d %s: %s\n", m.number, qPrintable(m.author), qPrintable(m.text));
        std::fflush(stdout);
        Q_EMIT messagePosted(m); // to every subscriber, queued from this thread
        return m.number;
    }

    QList<Chat::Message> history(int count) override
    {
        QMutexLocker lock(&m_mutex);
        const auto n = std::min<std::size_t>(std::size_t(std::clamp(count, 0, kept)), m_messages.size());
        return QList<Chat::Message>(m_messages.end() - qsizetype(n), m_messages.end());
    }

private:
    QMutex m_mutex;
    int m_count = 0;
    std::deque<Chat::Message> m_messages;
};

int signalFds[2] = {-1, -1};

// Async-signal-safe: only hands the signal's number to the event loop.
void onSignal(int signal)
{
    const char c = char(signal);
    [[maybe_unused]] const auto n = ::write(signalFds[0], &c, 1);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    app.setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "A chat room: publishes Chat::RoomService and, with name-service-uri, registers it.\n"
        "Every message is sent to the connected windows as the remote signal messagePosted\n"
        "(docs/SIGNALS.md). Stops gracefully on SIGINT and SIGTERM."));
    Tomato::RpcConfig defaults;
    defaults.setMicroServiceId(QStringLiteral("chat-room-service"));
    defaults.setPort(4575);
    const Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser, defaults);
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "tomato-chat-server: unexpected argument '%s' (see --help)\n",
                     qPrintable(parser.positionalArguments().first()));
        return 2;
    }

    std::unique_ptr<Tomato::Registry> registry;
    try {
        Tomato::RegistryFactory registries;
        Tomato::ZooKeeperRegistry::registerScheme(registries);
        registry = registries.create(config); // none when name-service-uri is empty
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "tomato-chat-server: name-service-uri: %s\n", e.what());
        return 2;
    }
    Tomato::RpcServer server(config);
    server.setRegistry(registry.get());
    RoomServiceImpl room;
    try {
        server.publish<Chat::RoomService>(&room);
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "tomato-chat-server: cannot publish: %s\n", e.what());
        return 1;
    }
    if (!server.start()) {
        std::fprintf(stderr, "tomato-chat-server: cannot start: %s\n", qPrintable(server.errorString()));
        return 1;
    }

    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalFds) != 0) {
        std::perror("socketpair");
        return 1;
    }
    QSocketNotifier notifier(signalFds[1], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &app, [&] {
        char c = 0;
        if (::read(signalFds[1], &c, 1) != 1)
            return;
        std::printf("stopping: draining calls in flight\n");
        std::fflush(stdout);
        server.stop(); // unregisters, stops accepting, drains; subscribers reconnect elsewhere
        if (registry)
            registry->stop();
        app.quit();
    });
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);

    const QString host = !server.instance().host().isEmpty() ? server.instance().host() : server.address().toString();
    QStringList listening;
    for (const Tomato::Endpoint &a : server.addresses())
        listening << a.toString();
    std::printf("READY %s:%u services=%s stage=%s group=%s listening=%s\n", qPrintable(host), unsigned(server.port()),
                qPrintable(server.services().join(QLatin1Char(','))), qPrintable(config.stage()),
                qPrintable(config.group()), qPrintable(listening.join(QLatin1Char(','))));
    std::fflush(stdout);
    return app.exec();
}

#include <tomato/client/rpcclient.h>

#include <tomato/transport/clientconnection_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/outbox_p.h>

#include <QtCore/QMutex>

namespace Tomato {

class ClientCore
{
public:
    explicit ClientCore(const RpcConfig &cfg)
        : config(cfg), io(cfg.ioThreads(), QStringLiteral("tomato-client-io-"))
    {
    }

    std::shared_ptr<ClientSession> session(const QString &host, quint16 port, int connection)
    {
        const QString key = host + QLatin1Char(':') + QString::number(port) + QLatin1Char('#')
            + QString::number(connection);
        QMutexLocker lock(&mutex);
        if (auto s = sessions.value(key))
            return s;
        ClientConnectionSettings settings;
        settings.host = host;
        settings.port = port;
        settings.maxFrameBytes = config.maxFrameBytes();
        settings.keepAliveMs = config.clientKeepAliveMs();
        settings.compression = config.compression() == QLatin1String("none")
            ? QByteArray()
            : config.compression().toLatin1();
        settings.compressionThreshold = config.compressionThresholdBytes();
        auto s = std::make_shared<ClientSession>(settings);
        if (closed) {
            // After shutdown: a session that refuses every call.
            s->close();
            return s;
        }
        QObject *context = io.context(io.next());
        runOnThread(context, [&] { connections.append(new ClientConnection(s, context)); });
        sessions.insert(key, s);
        return s;
    }

    void shutdown()
    {
        QMutexLocker lock(&mutex);
        closed = true;
        for (ClientConnection *c : std::as_const(connections))
            runOnThread(c->parent(), [c] { delete c; });
        connections.clear();
        sessions.clear();
        lock.unlock();
        io.stop();
    }

    const RpcConfig config;
    IoThreadPool io;
    mutable QMutex mutex;
    QHash<QString, std::shared_ptr<ClientSession>> sessions;
    QList<ClientConnection *> connections;
    bool closed = false;
};

namespace {
// A channel to one instance over its shared connection.
class DirectChannel final : public Channel
{
public:
    DirectChannel(std::shared_ptr<ClientSession> session, const RpcConfig &config)
        : m_session(std::move(session)),
          m_timeout(config.timeoutMs()),
          m_serialization(config.serialization()),
          m_compressionThreshold(config.compressionThresholdBytes())
    {
    }
    void send(std::unique_ptr<OutgoingCall> call) override { m_session->send(std::move(call)); }
    QString describe() const override
    {
        return m_session->settings.host + QLatin1Char(':') + QString::number(m_session->settings.port);
    }
    std::chrono::milliseconds defaultTimeout() const override { return m_timeout; }
    Serialization defaultSerialization() const override { return m_serialization; }
    QByteArray compression() const override { return m_session->settings.compression; }
    int compressionThreshold() const override { return m_compressionThreshold; }

private:
    std::shared_ptr<ClientSession> m_session;
    std::chrono::milliseconds m_timeout;
    Serialization m_serialization;
    int m_compressionThreshold;
};
} // namespace

RpcClient::RpcClient(const RpcConfig &config, QObject *parent)
    : QObject(parent), d(std::make_shared<ClientCore>(config))
{
}

RpcClient::~RpcClient()
{
    d->shutdown();
}

std::shared_ptr<Channel> RpcClient::directChannel(const QString &host, quint16 port, int connection)
{
    return std::make_shared<DirectChannel>(d->session(host, port, connection), d->config);
}

const RpcConfig &RpcClient::config() const
{
    return d->config;
}

int RpcClient::callsInFlight() const
{
    QMutexLocker lock(&d->mutex);
    int n = 0;
    for (const auto &s : std::as_const(d->sessions))
        n += int(s->inFlight());
    return n;
}

std::pair<QString, quint16> RpcClient::splitHostPort(const QString &hostAndPort)
{
    const qsizetype colon = hostAndPort.lastIndexOf(QLatin1Char(':'));
    bool ok = false;
    const uint port = colon > 0 ? hostAndPort.mid(colon + 1).toUInt(&ok) : 0;
    if (!ok || port == 0 || port > 65535)
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("'%1' is not of the form host:port").arg(hostAndPort));
    QString host = hostAndPort.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    return {host, quint16(port)};
}

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
// The systemd readiness protocol (sd_notify(3)) as a Type=notify unit sees it: the real
// tomato-sample-server is started with NOTIFY_SOCKET naming a datagram socket of this test,
// as systemd starts it, and the test reads what arrives there. READY=1 must come only once the
// server listens and, with a registry, is registered in ZooKeeper; STOPPING=1 when it drains.
// (packaging/systemd/tomato-sample-server@.service, docs/DEPLOYMENT.md)
#include "zookeeperreader.h"
#include "zookeeperserver.h"

#include <tomato/registry/instanceinfo.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QHostInfo>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <csignal>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

// The socket systemd would listen on: a bound AF_UNIX datagram socket in a temporary directory.
class NotifySocket
{
public:
    NotifySocket()
    {
        m_path = m_dir.path() + QStringLiteral("/notify");
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        const QByteArray p = m_path.toLocal8Bit();
        if (size_t(p.size()) >= sizeof a.sun_path)
            return;
        memcpy(a.sun_path, p.constData(), size_t(p.size()));
        m_bound = ::bind(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
    }
    ~NotifySocket() { ::close(m_fd); }
    bool isBound() const { return m_bound; }
    QString path() const { return m_path; }

    // The next message, or an empty one if none came within `ms`.
    QByteArray next(int ms)
    {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, ms) != 1)
            return {};
        char buffer[4096];
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        return n > 0 ? QByteArray(buffer, int(n)) : QByteArray();
    }

private:
    QTemporaryDir m_dir;
    QString m_path;
    int m_fd = -1;
    bool m_bound = false;
};

// Waits for the sample server's stdout line starting with `prefix`; returns it, or "".
QString waitForLine(QProcess &process, const QByteArray &prefix, int ms = 15000)
{
    QDeadlineTimer deadline(ms);
    QByteArray out;
    while (!deadline.hasExpired()) {
        process.waitForReadyRead(50);
        out += process.readAllStandardOutput();
        for (const QByteArray &line : out.split('\n')) {
            if (line.startsWith(prefix))
                return QString::fromUtf8(line);
        }
        if (process.state() == QProcess::NotRunning)
            break;
    }
    return {};
}

bool accepts(quint16 port)
{
    QTcpSocket s;
    s.connectToHost(QStringLiteral("127.0.0.1"), port);
    return s.waitForConnected(2000);
}

} // namespace

class tst_Systemd : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void withoutARegistryReadyFollowsListening();
    void withARegistryReadyWaitsForTheRegistration();
    void aRegistryNameThatResolvesLaterIsTriedAgain();

private:
    void start(QProcess &process, const NotifySocket &socket, const QStringList &arguments)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("NOTIFY_SOCKET"), socket.path());
        process.setProcessEnvironment(env);
        process.start(QStringLiteral(SAMPLE_SERVER),
                      QStringList{QStringLiteral("--tomato-rpc.host=127.0.0.1"), QStringLiteral("--tomato-rpc.port=0")}
                          + arguments);
        QVERIFY(process.waitForStarted(5000));
    }
    static quint16 portOf(const QString &readyLine)
    {
        const qsizetype colon = readyLine.indexOf(QLatin1Char(':'));
        return quint16(readyLine.mid(colon + 1, readyLine.indexOf(QLatin1Char(' '), colon) - colon - 1).toUInt());
    }
};

void tst_Systemd::withoutARegistryReadyFollowsListening()
{
    NotifySocket socket;
    QVERIFY(socket.isBound());
    QProcess server;
    start(server, socket, {});
    const QByteArray ready = socket.next(15000);
    QVERIFY2(ready.startsWith("READY=1\n"), ready.constData());
    QVERIFY2(ready.contains("\nSTATUS=listening on tcp://127.0.0.1:"), ready.constData());
    QVERIFY2(!ready.contains("registered"), ready.constData());
    const QString line = waitForLine(server, "READY ");
    QVERIFY(!line.isEmpty());
    QVERIFY(accepts(portOf(line))); // READY=1 was sent by a server that listens

    ::kill(pid_t(server.processId()), SIGTERM);
    const QByteArray stopping = socket.next(10000);
    QVERIFY2(stopping.startsWith("STOPPING=1\nSTATUS=draining"), stopping.constData());
    QVERIFY(server.waitForFinished(15000));
    QCOMPARE(server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(server.exitCode(), 0);
    QVERIFY(socket.next(0).isEmpty()); // once each
}

void tst_Systemd::withARegistryReadyWaitsForTheRegistration()
{
    // The server starts while ZooKeeper is down: it listens, but must not say READY=1 until
    // ZooKeeper is up and its instance node is there.
    ZooKeeperServer zk;
    NotifySocket socket;
    QVERIFY(socket.isBound());
    QProcess server;
    start(server, socket, {QStringLiteral("--tomato-rpc.name-service-uri=") + zk.hosts(),
                           QStringLiteral("--tomato-rpc.stage=dev"), QStringLiteral("--tomato-rpc.group=main")});
    const QString line = waitForLine(server, "READY ");
    QVERIFY(!line.isEmpty());
    QVERIFY(accepts(portOf(line)));
    // Not ready while unregistered. (A bounded look: a message would come at once, as it does
    // in the test above, if the server did not wait for the registry.)
    const QByteArray early = socket.next(1500);
    QVERIFY2(early.isEmpty(), early.constData());

    QVERIFY2(zk.start(), qPrintable(zk.log()));
    const QByteArray ready = socket.next(30000);
    QVERIFY2(ready.startsWith("READY=1\n"), ready.constData());
    QVERIFY2(ready.contains("; registered as demo-rpc-service (dev/main)"), ready.constData());
    // By now the instance node is in ZooKeeper, and carries the release the server runs.
    ZooKeeperReader reader(zk.hosts());
    QVERIFY(reader.connected());
    const QString providers = Tomato::ZooKeeperRegistry::providersPath(QStringLiteral("demo-rpc-service"),
                                                                       QStringLiteral("dev"));
    const QStringList nodes = reader.children(providers);
    QCOMPARE(nodes.size(), 1);
    const auto instance = Tomato::InstanceInfo::fromNodeName(nodes.first());
    QVERIFY(instance);
    QCOMPARE(instance->port(), portOf(line));
    QCOMPARE(instance->version(), QStringLiteral(TOMATO_VERSION_TEXT));
    const auto node = reader.node(providers + QLatin1Char('/') + nodes.first());
    QVERIFY(node);
    QCOMPARE(QJsonDocument::fromJson(node->first).object().value(QLatin1String("version")).toString(),
             QStringLiteral(TOMATO_VERSION_TEXT));

    ::kill(pid_t(server.processId()), SIGTERM);
    const QByteArray stopping = socket.next(10000);
    QVERIFY2(stopping.startsWith("STOPPING=1\n"), stopping.constData());
    QVERIFY(server.waitForFinished(15000));
    QCOMPARE(server.exitCode(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(reader.children(providers).isEmpty(), 5000);
}

void tst_Systemd::aRegistryNameThatResolvesLaterIsTriedAgain()
{
    // A Kubernetes pod may start before the DNS names of its ZooKeeper peers are published:
    // the registry must try the names again until one resolves, not give up at start. Here the
    // name is made to resolve by adding it to /etc/hosts, a private copy bind-mounted by
    // tests/scripts/with_private_hosts.sh (ctest runs this function as tst_systemd_resolve).
    const QString hostsFile = qEnvironmentVariable("TOMATO_TEST_HOSTS_FILE");
    if (hostsFile.isEmpty())
        QSKIP("needs a private /etc/hosts; ctest runs it as tst_systemd_resolve");
    const QString name = QStringLiteral("tomato-zk-later");
    QVERIFY(QHostInfo::fromName(name).addresses().isEmpty());
    ZooKeeperServer zk;
    QVERIFY2(zk.start(), qPrintable(zk.log()));
    NotifySocket socket;
    QVERIFY(socket.isBound());
    QProcess server;
    start(server, socket, {QStringLiteral("--tomato-rpc.name-service-uri=zookeeper://%1:%2").arg(name).arg(zk.port()),
                           QStringLiteral("--tomato-rpc.stage=dev"), QStringLiteral("--tomato-rpc.group=main")});
    QVERIFY(!waitForLine(server, "READY ").isEmpty());
    const QByteArray early = socket.next(2500); // two retries' worth
    QVERIFY2(early.isEmpty(), early.constData());

    QFile hosts(hostsFile);
    QVERIFY(hosts.open(QIODevice::Append)); // in place: the bind mount shows this very file
    QVERIFY(hosts.write(QStringLiteral("127.0.0.1 %1\n").arg(name).toLatin1()) > 0);
    hosts.close();
    const QByteArray ready = socket.next(30000);
    QVERIFY2(ready.startsWith("READY=1\n"), ready.constData());
    QVERIFY2(ready.contains("; registered as demo-rpc-service (dev/main)"), ready.constData());

    ::kill(pid_t(server.processId()), SIGTERM);
    QVERIFY(server.waitForFinished(15000));
    QCOMPARE(server.exitCode(), 0);
    // Said once, not once a second.
    const QByteArray errors = server.readAllStandardError();
    QCOMPARE(errors.count("cannot create a ZooKeeper handle for " + name.toLatin1()), 1);
    QVERIFY2(errors.contains("does any of its host names resolve?); trying again every 1000 ms"), errors.constData());
}

QTEST_GUILESS_MAIN(tst_Systemd)
#include "tst_systemd.moc"

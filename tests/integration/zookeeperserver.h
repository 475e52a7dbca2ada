// SPDX-License-Identifier: Apache-2.0
#pragma once
// A real ZooKeeper server for tests: Debian's `zookeeper` package, started on a free
// loopback port with a temporary data directory, ready when `ruok` answers `imok`.
// Also a 3-node ensemble. Used on the test thread only.
#include <QtCore/QDeadlineTimer>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

#include <memory>
#include <vector>

class ZooKeeperServer
{
public:
    static quint16 freePort()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }

    // Answers `imok` to ruok?
    static bool ruok(quint16 port, int ms = 500)
    {
        QTcpSocket s;
        s.connectToHost(QStringLiteral("127.0.0.1"), port);
        if (!s.waitForConnected(ms))
            return false;
        s.write("ruok");
        QByteArray answer;
        QDeadlineTimer deadline(ms);
        while (answer.size() < 4 && s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            answer += s.readAll();
        return answer.startsWith("imok");
    }

    // myid 0: standalone. For an ensemble, `peers` lists (clientPort, quorumPort, electionPort).
    explicit ZooKeeperServer(quint16 port = freePort())
        : m_port(port)
    {
    }

    quint16 port() const { return m_port; }
    QString hosts() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }
    QString dataDir() const { return m_dir.path() + QStringLiteral("/data"); }

    void configureEnsemble(int myid, const QList<std::tuple<quint16, quint16, quint16>> &peers)
    {
        m_myid = myid;
        m_peers = peers;
    }

    bool start(int readyMs = 20000)
    {
        QDir().mkpath(dataDir());
        QFile cfg(m_dir.path() + QStringLiteral("/zoo.cfg"));
        if (!cfg.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return false;
        QByteArray text = "tickTime=500\ninitLimit=20\nsyncLimit=10\n"
                          "minSessionTimeout=1000\nmaxSessionTimeout=60000\n"
                          "admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,stat\n"
                          "clientPortAddress=127.0.0.1\n";
        text += "dataDir=" + dataDir().toUtf8() + "\nclientPort=" + QByteArray::number(m_port) + "\n";
        if (m_myid > 0) {
            for (int i = 0; i < m_peers.size(); ++i) {
                const auto [client, quorum, election] = m_peers.at(i);
                Q_UNUSED(client);
                text += "server." + QByteArray::number(i + 1) + "=127.0.0.1:" + QByteArray::number(quorum)
                    + ":" + QByteArray::number(election) + "\n";
            }
            QFile myid(dataDir() + QStringLiteral("/myid"));
            if (!myid.open(QIODevice::WriteOnly | QIODevice::Truncate))
                return false;
            myid.write(QByteArray::number(m_myid) + "\n");
        }
        cfg.write(text);
        cfg.close();
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setStandardOutputFile(m_dir.path() + QStringLiteral("/zookeeper.log"));
        m_process->start(QStringLiteral("java"),
                         {QStringLiteral("-Xmx256m"), QStringLiteral("-cp"),
                          QStringLiteral("/etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar"),
                          QStringLiteral("org.apache.zookeeper.server.quorum.QuorumPeerMain"),
                          cfg.fileName()});
        if (!m_process->waitForStarted(10000))
            return false;
        return m_myid > 0 || waitReady(readyMs);
    }

    bool waitReady(int ms = 20000)
    {
        QDeadlineTimer deadline(ms);
        while (!deadline.hasExpired()) {
            if (ruok(m_port))
                return true;
            if (m_process->state() == QProcess::NotRunning)
                return false;
            QThread::msleep(50);
        }
        return false;
    }

    void stop()
    {
        if (!m_process)
            return;
        m_process->kill();
        m_process->waitForFinished(10000);
        m_process.reset();
    }

    // Removes the data directory: a restart forgets every session and node.
    void wipe() { QDir(dataDir()).removeRecursively(); }

    QString log() const
    {
        QFile f(m_dir.path() + QStringLiteral("/zookeeper.log"));
        return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll().right(4000)) : QString();
    }

    ~ZooKeeperServer() { stop(); }

private:
    QTemporaryDir m_dir;
    quint16 m_port;
    int m_myid = 0;
    QList<std::tuple<quint16, quint16, quint16>> m_peers;
    std::unique_ptr<QProcess> m_process;
};

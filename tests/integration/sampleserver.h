// SPDX-License-Identifier: Apache-2.0
#pragma once
// A tomato-sample-server process for integration tests: started with a registry, a stage and a
// group, on 127.0.0.1 and a port of its own (or a given one, to restart "the same" instance).
#include <QtCore/QDeadlineTimer>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QStringList>

#include <csignal>
#include <sys/types.h>

// Waits for a started tomato-sample-server's READY line: the port it listens on at
// 127.0.0.1, or 0 when none came within 15 s.
inline quint16 waitForSampleServerReady(QProcess &process)
{
    QByteArray out;
    QDeadlineTimer deadline(15000);
    while (!out.contains('\n') && !deadline.hasExpired()) {
        process.waitForReadyRead(100);
        out += process.readAllStandardOutput();
    }
    const auto m = QRegularExpression(QStringLiteral("READY 127\\.0\\.0\\.1:(\\d+)")).match(QString::fromUtf8(out));
    return m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
}

// One tomato-sample-server process.
class SampleServer
{
public:
    SampleServer(const QString &zkHosts, const QString &stage, const QString &group,
                 const QStringList &more = {}, const QString &transport = QStringLiteral("tcp"), quint16 port = 0)
        : m_transport(transport)
    {
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.start(QStringLiteral(SAMPLE_SERVER),
                        QStringList{QStringLiteral("--tomato-rpc.name-service-uri=") + zkHosts,
                                    QStringLiteral("--tomato-rpc.host=127.0.0.1"),
                                    QStringLiteral("--tomato-rpc.port=") + QString::number(port),
                                    QStringLiteral("--tomato-rpc.transport=") + transport,
                                    QStringLiteral("--tomato-rpc.stage=") + stage,
                                    QStringLiteral("--tomato-rpc.group=") + group}
                            + (more.filter(QStringLiteral("registry-session-timeout-ms")).isEmpty()
                                   ? QStringList{QStringLiteral("--tomato-rpc.registry-session-timeout-ms=2000")}
                                   : QStringList())
                            + more);
        m_port = waitForSampleServerReady(m_process);
    }
    ~SampleServer()
    {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    quint16 port() const { return m_port; }
    QString address() const { return QStringLiteral("%1://127.0.0.1:%2").arg(m_transport).arg(m_port); }
    void killHard() { ::kill(pid_t(m_process.processId()), SIGKILL); m_process.waitForFinished(5000); }
    void terminate() { ::kill(pid_t(m_process.processId()), SIGTERM); m_process.waitForFinished(10000); }
    // SIGSTOP / SIGCONT / SIGUSR1 (the sample server's load-shedding switch).
    void signal(int sig) { ::kill(pid_t(m_process.processId()), sig); }
    // Standard output since the READY line.
    QByteArray output()
    {
        m_output += m_process.readAllStandardOutput();
        return m_output;
    }

private:
    QProcess m_process;
    QByteArray m_output;
    QString m_transport;
    quint16 m_port = 0;
};

// The sample programs as a user runs them: a real server process, a real client process,
// real sockets.
#include "testcertificates.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtNetwork/QTcpSocket>
#include <QtCore/QRegularExpression>
#include <QtTest/QTest>

#include <csignal>

class tst_Samples : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void theSampleClientGetsEveryReplyFromTheSampleServer();
    void theSamplesTalkOverEveryTransport_data();
    void theSamplesTalkOverEveryTransport();
    void theServerStopsGracefullyOnSigterm();
    void aBadConfigurationValueIsNamed();
    void theProtocolDocumentsExampleGetsTheDocumentedAnswer();

private:
    // Starts the server on a free port; returns the port, 0 on failure.
    quint16 startServer(QProcess &server, const QStringList &extra = {});
    // The same, returning the addresses it listens on (none on failure).
    QStringList startServerAt(QProcess &server, const QStringList &extra);
};

quint16 tst_Samples::startServer(QProcess &server, const QStringList &extra)
{
    const QStringList addresses = startServerAt(server, QStringList{QStringLiteral("--tomato-rpc.host=127.0.0.1"),
                                                                    QStringLiteral("--tomato-rpc.port=0")} + extra);
    return quint16(addresses.value(0).section(QLatin1Char(':'), -1).toUInt());
}

QStringList tst_Samples::startServerAt(QProcess &server, const QStringList &extra)
{
    server.setProcessChannelMode(QProcess::SeparateChannels);
    server.start(QStringLiteral(SAMPLE_SERVER),
                 QStringList{QStringLiteral("--tomato-rpc.stage=dev"), QStringLiteral("--tomato-rpc.group=main")} + extra);
    if (!server.waitForStarted())
        return {};
    QByteArray out;
    QDeadlineTimer deadline(10000);
    while (!out.contains('\n') && !deadline.hasExpired()) {
        server.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        out += server.readAllStandardOutput();
    }
    const auto m = QRegularExpression(QStringLiteral("^READY .* listening=(\\S+)"), QRegularExpression::MultilineOption)
                       .match(QString::fromUtf8(out));
    return m.hasMatch() ? m.captured(1).split(QLatin1Char(',')) : QStringList();
}

void tst_Samples::theSampleClientGetsEveryReplyFromTheSampleServer()
{
    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY2(port != 0, server.readAllStandardError().constData());
    QProcess client;
    client.start(QStringLiteral(SAMPLE_CLIENT),
                 {QStringLiteral("--server"), QStringLiteral("127.0.0.1:%1").arg(port)});
    QVERIFY(client.waitForFinished(20000));
    const QString out = QString::fromUtf8(client.readAllStandardOutput());
    QVERIFY2(client.exitCode() == 0, qPrintable(out + QString::fromUtf8(client.readAllStandardError())));
    const QString who = QStringLiteral("127.0.0.1:%1 demo-rpc-service stage=dev group=main").arg(port);
    QVERIFY2(out.contains(QStringLiteral("echo (blocking): [%1] hello, tomato").arg(who)), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("echo (future):   [%1] hello again").arg(who)), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("text='demo' sum=17 attributes=colour,size")), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("normalize:       numbers=1,3,5,8 attributes=3")), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("sum(1..10):      55")), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("notifications:   2")), qPrintable(out));
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void tst_Samples::theSamplesTalkOverEveryTransport_data()
{
    QTest::addColumn<QString>("transport");
    QTest::newRow("tls") << QStringLiteral("tls");
    QTest::newRow("unix") << QStringLiteral("unix");
    QTest::newRow("tcp and tls at once") << QStringLiteral("both");
}

void tst_Samples::theSamplesTalkOverEveryTransport()
{
    QFETCH(QString, transport);
    TestCertificates certificates;
    QVERIFY2(certificates.make(), qPrintable(certificates.error()));
    const QStringList tls{QStringLiteral("--tomato-rpc.tls-cert=") + certificates.cert(QStringLiteral("server")),
                          QStringLiteral("--tomato-rpc.tls-key=") + certificates.key(QStringLiteral("server"))};
    QStringList serverArgs;
    if (transport == QLatin1String("tls"))
        serverArgs = QStringList{QStringLiteral("--tomato-rpc.transport=tls"), QStringLiteral("--tomato-rpc.host=127.0.0.1"),
                                 QStringLiteral("--tomato-rpc.port=0")} + tls;
    else if (transport == QLatin1String("unix"))
        serverArgs = {QStringLiteral("--tomato-rpc.listen=unix://") + certificates.directory() + QLatin1String("/demo.sock")};
    else
        serverArgs = QStringList{QStringLiteral("--tomato-rpc.listen=tcp://127.0.0.1:0,tls://127.0.0.1:0")} + tls;
    QProcess server;
    const QStringList addresses = startServerAt(server, serverArgs);
    QVERIFY2(!addresses.isEmpty(), server.readAllStandardError().constData());
    QCOMPARE(addresses.size(), transport == QLatin1String("both") ? 2 : 1);
    QVERIFY2(addresses.first().startsWith(transport == QLatin1String("both") ? QStringLiteral("tcp://") : transport + QLatin1String("://")),
             qPrintable(addresses.join(QLatin1Char(','))));
    for (const QString &a : addresses) {
        QProcess client;
        client.start(QStringLiteral(SAMPLE_CLIENT),
                     {QStringLiteral("--server"), a, QStringLiteral("--tomato-rpc.tls-ca=") + certificates.ca()});
        QVERIFY(client.waitForFinished(20000));
        const QString out = QString::fromUtf8(client.readAllStandardOutput());
        QVERIFY2(client.exitCode() == 0, qPrintable(a + QLatin1Char(' ') + out + QString::fromUtf8(client.readAllStandardError())));
        QVERIFY2(out.contains(QLatin1String("sum(1..10):      55")), qPrintable(out));
    }
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void tst_Samples::theServerStopsGracefullyOnSigterm()
{
    QProcess server;
    QVERIFY(startServer(server) != 0);
    ::kill(pid_t(server.processId()), SIGTERM);
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(server.exitCode(), 0);
    QVERIFY(server.readAllStandardOutput().contains("stopping: draining calls in flight"));
}

void tst_Samples::aBadConfigurationValueIsNamed()
{
    QProcess server;
    server.start(QStringLiteral(SAMPLE_SERVER), {QStringLiteral("--tomato-rpc.port=eighty")});
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitCode(), 2);
    const QByteArray err = server.readAllStandardError();
    QVERIFY2(err.contains("port") && err.contains("eighty"), err.constData());
}

namespace {
// The hex block that follows `marker` in docs/PROTOCOL.md, as bytes.
QByteArray documentedBytes(const QByteArray &doc, const QByteArray &marker)
{
    const qsizetype at = doc.indexOf(marker);
    const qsizetype start = doc.indexOf("```hex\n", at);
    const qsizetype end = doc.indexOf("```", start + 7);
    if (at < 0 || start < 0 || end < 0)
        return {};
    return QByteArray::fromHex(doc.mid(start + 7, end - start - 7).simplified().replace(' ', ""));
}
} // namespace

void tst_Samples::theProtocolDocumentsExampleGetsTheDocumentedAnswer()
{
    QFile file(QStringLiteral(PROTOCOL_DOC));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray doc = file.readAll();
    const QByteArray request = documentedBytes(doc, "<!-- example-request -->");
    const QByteArray response = documentedBytes(doc, "<!-- example-response -->");
    QCOMPARE(request.size(), 75);
    QCOMPARE(response.size(), 31);

    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY(port != 0);
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    QVERIFY(socket.waitForConnected(5000));
    socket.write(request);
    QByteArray answer;
    QDeadlineTimer deadline(5000);
    while (answer.size() < response.size() && socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
        answer += socket.readAll();
    QCOMPARE(answer.toHex(' '), response.toHex(' '));
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

QTEST_GUILESS_MAIN(tst_Samples)
#include "tst_samples.moc"

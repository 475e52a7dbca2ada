// tomato-sample-client: calls every method of the sample services on one server, blocking
// and through futures, and prints the replies.
//
//   tomato-sample-client [--server host:port] [--tomato-rpc.<key>=<value>...]
//
// Exits 0 when every call succeeded, 1 otherwise.
#include "demoservice_stub.h"
#include "echoservice_stub.h"

#include <tomato/client/rpcclient.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QStringList>
#include <cstdio>

namespace {
void print(const QString &line)
{
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments();
    QString server = QStringLiteral("127.0.0.1:4567");
    const qsizetype i = args.indexOf(QStringLiteral("--server"));
    if (i > 0 && i + 1 < args.size()) {
        server = args.at(i + 1);
        args.remove(i, 2);
    }

    try {
        Tomato::RpcClient client(Tomato::RpcConfig::fromArguments(args));
        auto echo = client.createDirectStub<Sample::EchoService>(server);
        auto demo = client.createDirectStub<Sample::DemoService>(server);

        print(QStringLiteral("echo (blocking): %1").arg(echo->echo(QStringLiteral("hello, tomato"))));
        QFuture<QString> future = echo->echoAsync(QStringLiteral("hello again, asynchronously"));
        print(QStringLiteral("echo (future):   %1").arg(future.result()));

        Sample::DemoRequest request;
        request.text = QStringLiteral("demo");
        request.numbers = {5, 3, 8, 1};
        request.attributes = {QVariantMap{{QStringLiteral("colour"), QStringLiteral("red")}},
                              QVariantMap{{QStringLiteral("size"), 42}}};
        print(QStringLiteral("describe:        %1").arg(demo->describe(request)));
        const Sample::DemoRequest normalized = demo->normalizeAsync(request).result();
        QStringList numbers;
        for (int n : normalized.numbers)
            numbers << QString::number(n);
        print(QStringLiteral("normalize:       numbers=%1 attributes=%2")
                  .arg(numbers.join(QLatin1Char(',')))
                  .arg(normalized.attributes.size()));
        print(QStringLiteral("sum(1..10):      %1").arg(demo->sum({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})));
        demo->notify(QStringLiteral("sample-client ran"));
        demo->notifyAsync(QStringLiteral("and again")).waitForFinished();
        print(QStringLiteral("notifications:   %1").arg(demo->notifications()));
    } catch (const Tomato::RpcError &e) {
        print(QStringLiteral("call failed: %1").arg(e.toString()));
        return 1;
    } catch (const Tomato::ConfigError &e) {
        print(QString::fromUtf8(e.what()));
        return 2;
    }
    return 0;
}

// SPDX-License-Identifier: Apache-2.0
// tomato-sample-server: publishes EchoService and DemoService.
//
//   tomato-sample-server [--tomato-rpc.<key>=<value>...]
//
// Configuration as in docs/CONFIGURATION.md (defaults here: micro-service-id
// demo-rpc-service, port 4567); with name-service-uri set it registers in that registry.
// --tomato-rpc.transport=tls (with tls-cert and tls-key) serves TLS on host:port;
// --tomato-rpc.listen=tcp://0.0.0.0:4567,tls://0.0.0.0:4568,unix:///tmp/demo.sock serves
// several addresses at once.
// Prints "READY <host>:<port> ... listening=<addresses>" once it accepts calls and stops
// gracefully on SIGINT/SIGTERM (unregisters, stops accepting, drains calls in flight, closes
// the registry session).
// SIGUSR1 toggles RpcServer::setOverloaded(), a test hook for load shedding: while on, every
// new call is answered Overloaded. It prints "overloaded on" or "overloaded off".
#include "sampleservices.h"

#include <tomato/client/rpcclient.h>
#include <tomato/core/version.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostInfo>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

namespace {
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
        "Publishes Sample::EchoService and Sample::DemoService (docs/STUBS.md) and, with\n"
        "name-service-uri, registers them. Stops gracefully on SIGINT and SIGTERM.\n"
        "SIGUSR1 toggles load shedding (a test hook): while on, every new call is answered\n"
        "Overloaded; it prints \"overloaded on\" or \"overloaded off\"."));
    // Our defaults; the file, the environment and the command line override them.
    Tomato::RpcConfig defaults;
    defaults.setMicroServiceId(QStringLiteral("demo-rpc-service"));
    defaults.setPort(4567);
    const Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser, defaults);
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "tomato-sample-server: unexpected argument '%s' (see --help)\n",
                     qPrintable(parser.positionalArguments().first()));
        return 2;
    }

    std::unique_ptr<Tomato::Registry> registry;
    try {
        Tomato::RegistryFactory registries;
        Tomato::ZooKeeperRegistry::registerScheme(registries);
        registry = registries.create(config); // none when name-service-uri is empty
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "name-service-uri: %s\n", e.what());
        return 2;
    }
    Tomato::RpcServer server(config);
    server.setRegistry(registry.get());
    ServerIdentity identity;
    EchoServiceImpl echo(&identity);
    DemoServiceImpl demo(&identity);
    try {
        server.publish<Sample::EchoService>(&echo);
        server.publish<Sample::DemoService>(&demo);
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "cannot publish: %s\n", e.what());
        return 1;
    }
    if (!server.start()) {
        std::fprintf(stderr, "cannot start: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    const Tomato::Endpoint first = server.addresses().first();
    identity.host = !config.advertiseHost().isEmpty() ? config.advertiseHost()
        : first.hasPath() ? first.path()
        : server.address().isEqual(QHostAddress::AnyIPv4) ? QHostInfo::localHostName()
                                                          : server.address().toString();
    identity.port = server.port();
    // DemoService's asynchronous methods call this server's own EchoService, as any client would:
    // over plain TCP or a Unix socket where it listens on one, else over TLS, trusting tls-ca.
    Tomato::Endpoint self = first;
    for (const Tomato::Endpoint &a : server.addresses()) {
        if (a.scheme() != QLatin1String("tls")) {
            self = a;
            break;
        }
    }
    Tomato::RpcClient client(config);
    const auto echoStub = client.createDirectStub<Sample::EchoService>(self);
    demo.setEcho(echoStub.get());
    identity.microServiceId = config.microServiceId();
    identity.stage = config.stage();
    identity.group = config.group();

    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalFds) != 0) {
        std::perror("socketpair");
        return 1;
    }
    QSocketNotifier notifier(signalFds[1], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &app, [&] {
        char c = 0;
        if (::read(signalFds[1], &c, 1) != 1)
            return;
        if (c == SIGUSR1) {
            server.setOverloaded(!server.isOverloaded());
            std::printf("overloaded %s\n", server.isOverloaded() ? "on" : "off");
            std::fflush(stdout);
            return;
        }
        std::printf("stopping: draining calls in flight\n");
        std::fflush(stdout);
        server.stop();       // unregisters, stops accepting, drains
        if (registry)
            registry->stop(); // closes the registry session last
        app.quit();
    });
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    std::signal(SIGUSR1, onSignal);

    if (registry && !server.instance().host().isEmpty())
        identity.host = server.instance().host();
    QStringList listening;
    for (const Tomato::Endpoint &a : server.addresses())
        listening << a.toString();
    std::printf("READY %s:%u services=%s stage=%s group=%s listening=%s\n", qPrintable(identity.host),
                unsigned(identity.port), qPrintable(server.services().join(QLatin1Char(','))),
                qPrintable(identity.stage), qPrintable(identity.group), qPrintable(listening.join(QLatin1Char(','))));
    std::fflush(stdout);
    const int rc = app.exec();
    const auto stats = server.stats();
    std::printf("stopped after %llu calls (%llu failed)\n",
                static_cast<unsigned long long>(stats.callsReceived()),
                static_cast<unsigned long long>(stats.callsFailed()));
    return rc;
}

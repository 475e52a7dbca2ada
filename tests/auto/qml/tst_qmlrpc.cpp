// SPDX-License-Identifier: Apache-2.0
// Calls from QML (docs/QML.md): the tst_*.qml files of this folder use the Tomato.Rpc module
// (linked in statically) against a real RpcServer over real sockets, started here: the test
// service of tests/auto/rpc published on a free loopback port, its address given to QML as
// `serverAddress`, and `gates` to let a held call go.
#include "signalserviceimpl.h"
#include "testserviceimpl.h"

#include "signalservice_stub.h"

#include <qmlstub.h>
#include <tomato/server/rpcserver.h>

#include <QtQml/QQmlContext>
#include <QtQml/QQmlEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickTest/quicktest.h>

#include <memory>

Q_IMPORT_QML_PLUGIN(Tomato_RpcPlugin)

class GateKeeper : public QObject
{
    Q_OBJECT
public:
    explicit GateKeeper(Test::Gates *gates) : m_gates(gates) {}
    Q_INVOKABLE void open(const QString &gate) { m_gates->open(gate); }

private:
    Test::Gates *m_gates;
};

// What the QML tests check on the server: its remote-signal subscriptions, and emissions.
class ServerProbe : public QObject
{
    Q_OBJECT
public:
    explicit ServerProbe(std::unique_ptr<Tomato::RpcServer> *server, Test::SignalServiceImpl *impl)
        : m_server(server), m_impl(impl) {}
    Q_INVOKABLE int subscriptions() const { return (*m_server)->stats().subscriptions(); }
    Q_INVOKABLE void fire(int count, const QString &text) { m_impl->fire(count, text); }

private:
    std::unique_ptr<Tomato::RpcServer> *m_server;
    Test::SignalServiceImpl *m_impl;
};

class Setup : public QObject
{
    Q_OBJECT
public Q_SLOTS:
    void applicationAvailable()
    {
        // Stubs of Test::TestService know its methods before any call; Tomato::Introspection
        // is learnt from the server.
        Tomato::Qml::registerInterface<Test::TestService>();
        Tomato::Qml::registerInterface<Test::SignalService>(); // with its stub: `events`
        qRegisterMetaType<Test::Tick>();
        Tomato::RpcConfig config;
        config.setHost(QStringLiteral("127.0.0.1"));
        m_server = std::make_unique<Tomato::RpcServer>(config);
        m_server->publish<Test::TestService>(&m_impl);
        m_server->publish<Test::SignalService>(&m_signalImpl);
        if (!m_server->start())
            qFatal("cannot start the test server: %s", qPrintable(m_server->errorString()));
    }
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        engine->rootContext()->setContextProperty(QStringLiteral("serverAddress"),
                                                  QStringLiteral("tcp://127.0.0.1:%1").arg(m_server->port()));
        engine->rootContext()->setContextProperty(QStringLiteral("gates"), &m_gateKeeper);
        engine->rootContext()->setContextProperty(QStringLiteral("server"), &m_probe);
    }
    void cleanupTestCase()
    {
        m_gates.open(QStringLiteral("held")); // no business thread left waiting
        m_server.reset();
    }

private:
    Test::Gates m_gates;
    Test::TestServiceImpl m_impl{&m_gates};
    GateKeeper m_gateKeeper{&m_gates};
    Test::SignalServiceImpl m_signalImpl{QStringLiteral("qml")};
    std::unique_ptr<Tomato::RpcServer> m_server;
    ServerProbe m_probe{&m_server, &m_signalImpl};
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qmlrpc, Setup)

#include "tst_qmlrpc.moc"

// SPDX-License-Identifier: Apache-2.0
// tomato-dashboard's C++ side against a real ZooKeeper and real sample servers
// (docs/DASHBOARD.md): the models follow instances as they come and go, one row signal at a
// time; health comes from the instances' status pages; the actions write overrides that
// clients apply; ZooKeeper going away is said, with the last tree kept; and the rendered
// scene of a live cluster holds its stages, groups and instances, in process and as the
// program's own --screenshot.
#include "sampleserver.h"
#include "zookeeperserver.h"

#include <dashboard/dashboard.h>
#include <dashboard/healthpoller.h>

#include <tomato/client/dynamicstub.h>
#include <tomato/client/invokerstats.h>
#include <tomato/client/rpcclient.h>
#include <tomato/core/endpoint.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QJsonArray>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickWindow>
#include <QtQuickControls2/QQuickStyle>
#include <QtTest/QSignalSpy>
#include <QtTest/QtTest>

#include <memory>

Q_IMPORT_QML_PLUGIN(Tomato_DashboardPlugin)

using namespace Tomato;

namespace {

const QString Demo = QStringLiteral("demo-rpc-service");

std::unique_ptr<Dashboard> makeDashboard(const QString &uri, bool readOnly = false, RpcConfig config = RpcConfig())
{
    config.setNameServiceUri(uri);
    Dashboard::Options options;
    options.pollIntervalMs = 300;
    options.maxPollsPerSecond = 50;
    options.readOnly = readOnly;
    auto d = std::make_unique<Dashboard>(config, options);
    d->start();
    return d;
}

QString addressOf(const SampleServer &s)
{
    return QStringLiteral("127.0.0.1:%1").arg(s.port());
}

QStringList column(const QAbstractItemModel *model, const QByteArray &role)
{
    const int r = model->roleNames().key(role, -1);
    QStringList out;
    for (int row = 0; row < model->rowCount(); ++row)
        out.append(model->index(row, 0).data(r).toString());
    return out;
}

QVariant cell(const QAbstractItemModel *model, int row, const QByteArray &role)
{
    return model->index(row, 0).data(model->roleNames().key(role, -1));
}

// The texts of the visible items named `objectName` under `root`, in tree order.
void collect(QQuickItem *item, const QString &objectName, QStringList *out)
{
    if (!item || !item->isVisible())
        return;
    if (item->objectName() == objectName)
        out->append(item->property("text").toString());
    for (QQuickItem *child : item->childItems())
        collect(child, objectName, out);
}

// A client of demo-rpc-service in dev/main, through ZooKeeper, that applies overrides.
struct Client
{
    explicit Client(const QString &zk)
    {
        RpcConfig config;
        config.setStage(QStringLiteral("dev"));
        config.setGroup(QStringLiteral("main"));
        registry = std::make_unique<ZooKeeperRegistry>(zk, config);
        client = std::make_unique<RpcClient>(config);
        client->setRegistry(registry.get());
        channel = client->clusterChannel(Demo);
    }
    ~Client() { client->setRegistry(nullptr); }
    InvokerStats invoker(const QString &address) const
    {
        for (const InvokerStats &s : client->invokers(Demo)) {
            if (s.address.endsWith(QLatin1String("://") + address))
                return s;
        }
        return {};
    }
    std::unique_ptr<ZooKeeperRegistry> registry;
    std::unique_ptr<RpcClient> client;
    std::shared_ptr<Channel> channel;
};

} // namespace

class tst_Dashboard : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void servicesGroupsAndInstancesComeAndGoOneRowAtATime();
    void healthComesFromTheStatusPages();
    void anOverrideWrittenByTheDashboardReachesAClient();
    void withoutWriteCredentialsTheActionsAreRefusedWithTheReason();
    void tryCallAnswersThroughTheDynamicCallApi();
    void anUnreachableZooKeeperIsSaidAndTheLastTreeKept();
    void theRenderedSceneHoldsTheLiveCluster();
    void theProgramWritesAScreenshotOrSaysWhyNot();

private:
    std::unique_ptr<ZooKeeperServer> m_zk;
};

void tst_Dashboard::initTestCase()
{
    QQuickStyle::setStyle(QStringLiteral("Fusion"));
}

void tst_Dashboard::init()
{
    m_zk = std::make_unique<ZooKeeperServer>();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
}

void tst_Dashboard::cleanup()
{
    m_zk.reset();
}

void tst_Dashboard::servicesGroupsAndInstancesComeAndGoOneRowAtATime()
{
    auto dashboard = makeDashboard(m_zk->hosts());
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->isLoaded(), 10000);
    QCOMPARE(dashboard->serviceCount(), 0);
    QAbstractItemModel *services = dashboard->services();
    InvokerModel *invokers = dashboard->invokers();
    dashboard->setCurrentService(Demo);
    QSignalSpy servicesInserted(services, &QAbstractItemModel::rowsInserted);
    QSignalSpy inserted(invokers, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(invokers, &QAbstractItemModel::rowsRemoved);
    QSignalSpy resets(invokers, &QAbstractItemModel::modelReset);

    QElapsedTimer seen;
    auto devMain = std::make_unique<SampleServer>(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    QVERIFY(devMain->port());
    seen.start();
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 1, 5000);
    qInfo("an instance reached the view %lld ms after its server said READY", seen.elapsed());
    QCOMPARE(servicesInserted.count(), 1);
    QCOMPARE(column(services, "serviceId"), QStringList{Demo});
    QCOMPARE(inserted.count(), 1);

    // dev/gray sorts before dev/main: inserted at row 0; prod/main after them.
    SampleServer devGray(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("gray"));
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 2, 5000);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(inserted.last().at(1).toInt(), 0);
    SampleServer prodMain(m_zk->hosts(), QStringLiteral("prod"), QStringLiteral("main"));
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 3, 5000);
    QCOMPARE(inserted.last().at(1).toInt(), 2);
    QCOMPARE(column(invokers, "section"),
             (QStringList{QStringLiteral("dev/gray"), QStringLiteral("dev/main"), QStringLiteral("prod/main")}));
    QCOMPARE(column(invokers, "address"), (QStringList{addressOf(devGray), addressOf(*devMain), addressOf(prodMain)}));

    // The section headings' data: stage dev holds two groups of one, prod one.
    const QVariantList sections = invokers->sections();
    QCOMPARE(sections.size(), 3);
    QCOMPARE(sections[0].toMap().value(QStringLiteral("stageCount")).toInt(), 2);
    QCOMPARE(sections[0].toMap().value(QStringLiteral("firstInStage")).toBool(), true);
    QCOMPARE(sections[1].toMap().value(QStringLiteral("firstInStage")).toBool(), false);
    QCOMPARE(sections[2].toMap().value(QStringLiteral("stage")).toString(), QStringLiteral("prod"));
    QCOMPARE(sections[2].toMap().value(QStringLiteral("count")).toInt(), 1);

    // A second service appears as a second row of the service list.
    SampleServer inventory(m_zk->hosts(), QStringLiteral("prod"), QStringLiteral("main"),
                           {QStringLiteral("--tomato-rpc.micro-service-id=inventory-rpc-service")});
    QTRY_COMPARE_WITH_TIMEOUT(services->rowCount(), 2, 5000);
    QCOMPARE(servicesInserted.count(), 2);
    QCOMPARE(invokers->rowCount(), 3); // not this service's

    // An instance leaving is one removed row, the others untouched; no reset anywhere.
    devMain->terminate();
    seen.restart();
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 2, 5000);
    qInfo("a stopped instance left the view %lld ms after its process exited", seen.elapsed());
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.last().at(1).toInt(), 1);
    QCOMPARE(column(invokers, "address"), (QStringList{addressOf(devGray), addressOf(prodMain)}));
    QCOMPARE(resets.count(), 0);
    QCOMPARE(cell(services, 0, "instances").toInt(), 2);
    QCOMPARE(invokers->sections().size(), 2);
}

void tst_Dashboard::healthComesFromTheStatusPages()
{
    // A session that outlives the freeze below: the instance stays listed, and not answering.
    SampleServer server(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"),
                        {QStringLiteral("--tomato-rpc.registry-session-timeout-ms=30000")});
    SampleServer shedding(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    shedding.signal(SIGUSR1);
    auto dashboard = makeDashboard(m_zk->hosts());
    dashboard->setCurrentService(Demo);
    InvokerModel *invokers = dashboard->invokers();
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 2, 10000);
    const int row = invokers->rowOf(QStringLiteral("dev"), addressOf(server));
    const int shed = invokers->rowOf(QStringLiteral("dev"), addressOf(shedding));
    QTRY_COMPARE_WITH_TIMEOUT(cell(invokers, row, "state").toString(), QStringLiteral("healthy"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(cell(invokers, shed, "state").toString(), QStringLiteral("overloaded"), 10000);

    // Calls show as a rate and a p99 from the server's own histogram.
    RpcClient client;
    auto channel = client.directChannel(Endpoint::fromString(server.address()));
    const DynamicStub echo(channel, QStringLiteral("Sample::EchoService"));
    QDeadlineTimer calling(20000);
    while (cell(invokers, row, "p99Ms").toDouble() <= 0 && !calling.hasExpired()) {
        for (int i = 0; i < 20; ++i)
            echo.callJson(QStringLiteral("echo"), QJsonArray{QStringLiteral("hi")}).waitForFinished();
        QTest::qWait(50);
    }
    QVERIFY(cell(invokers, row, "p99Ms").toDouble() > 0);
    QVERIFY(cell(invokers, row, "callsPerSecond").toDouble() > 0);
    QCOMPARE(cell(invokers, row, "errorRate").toDouble(), 0.0);
    QCOMPARE(cell(invokers, shed, "callsPerSecond").toDouble(), 0.0);

    // A frozen instance stops answering its status page: said, with the reason.
    server.signal(SIGSTOP);
    QTRY_COMPARE_WITH_TIMEOUT(cell(invokers, row, "state").toString(), QStringLiteral("not-answering"), 15000);
    QVERIFY(!cell(invokers, row, "stateReason").toString().isEmpty());
    server.signal(SIGCONT);
    QTRY_COMPARE_WITH_TIMEOUT(cell(invokers, row, "state").toString(), QStringLiteral("healthy"), 15000);

    // The instance page: its services and methods, its history and its metrics.
    dashboard->setCurrentInstance(addressOf(server));
    InstanceDetails *details = dashboard->instance();
    QTRY_VERIFY_WITH_TIMEOUT(!details->services().isEmpty(), 10000);
    QStringList interfaces;
    for (const QVariant &s : details->services())
        interfaces.append(s.toMap().value(QStringLiteral("service")).toString());
    QCOMPARE(interfaces, (QStringList{QStringLiteral("Sample::DemoService"), QStringLiteral("Sample::EchoService")}));
    QTRY_VERIFY_WITH_TIMEOUT(details->metricsText().contains(QLatin1String("tomato_server_calls_total")), 10000);
    QVERIFY(details->callsHistory().size() >= 2);
    QVERIFY(dashboard->isViewReady(QStringLiteral("instance:") + addressOf(server)));
}

void tst_Dashboard::anOverrideWrittenByTheDashboardReachesAClient()
{
    SampleServer server(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    Client client(m_zk->hosts());
    QTRY_VERIFY_WITH_TIMEOUT(!client.invoker(addressOf(server)).address.isEmpty(), 10000);
    auto dashboard = makeDashboard(m_zk->hosts());
    dashboard->setCurrentService(Demo);
    QTRY_COMPARE_WITH_TIMEOUT(dashboard->invokers()->rowCount(), 1, 10000);
    QCOMPARE(dashboard->writeRefusal(), QString());
    QSignalSpy finished(dashboard.get(), &Dashboard::actionFinished);

    dashboard->setDisabled(QStringLiteral("dev"), addressOf(server), true);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 5000);
    QCOMPARE(finished.last().at(0).toBool(), true);
    QTRY_COMPARE_WITH_TIMEOUT(client.invoker(addressOf(server)).state, QStringLiteral("disabled"), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(cell(dashboard->invokers(), 0, "state").toString(), QStringLiteral("disabled"), 5000);

    dashboard->setWeight(QStringLiteral("dev"), addressOf(server), 7);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(cell(dashboard->invokers(), 0, "overrideWeight").toInt(), 7, 5000);
    QCOMPARE(cell(dashboard->invokers(), 0, "disabled").toBool(), true); // kept

    dashboard->clearOverride(QStringLiteral("dev"), addressOf(server));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(client.invoker(addressOf(server)).state != QLatin1String("disabled"), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(cell(dashboard->invokers(), 0, "overrideWeight").toInt(), -1, 5000);
    QCOMPARE(finished.count(), 3);
}

void tst_Dashboard::withoutWriteCredentialsTheActionsAreRefusedWithTheReason()
{
    // prod is open (its server has no credentials and registered first); dev belongs to ops.
    SampleServer prod(m_zk->hosts(), QStringLiteral("prod"), QStringLiteral("main"));
    auto dashboard = makeDashboard(m_zk->hosts());
    dashboard->setCurrentService(Demo);
    InvokerModel *invokers = dashboard->invokers();
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 1, 10000); // READY comes before the registration
    const QString owner = QStringLiteral("zookeeper://ops:secret@") + m_zk->hosts();
    SampleServer dev(owner, QStringLiteral("dev"), QStringLiteral("main"));
    QTRY_COMPARE_WITH_TIMEOUT(invokers->rowCount(), 2, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(cell(invokers, 0, "actionRefusal").toString().contains(QLatin1String("zookeeper://user:password@")),
                             5000);
    QCOMPARE(cell(invokers, 0, "stage").toString(), QStringLiteral("dev"));
    QCOMPARE(cell(invokers, 1, "actionRefusal").toString(), QString()); // prod may be changed
    QCOMPARE(dashboard->writeRefusal(), QString());                     // so the service as a whole may
    QSignalSpy finished(dashboard.get(), &Dashboard::actionFinished);
    dashboard->setWeight(QStringLiteral("dev"), addressOf(dev), 5);
    QCOMPARE(finished.count(), 1); // refused at once, without asking ZooKeeper
    QCOMPARE(finished.last().at(0).toBool(), false);
    QVERIFY(finished.last().at(1).toString().contains(QLatin1String("owners")));
    dashboard->setWeight(QStringLiteral("prod"), addressOf(prod), 9);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 5000);
    QCOMPARE(finished.last().at(0).toBool(), true);
    QTRY_COMPARE_WITH_TIMEOUT(cell(invokers, 1, "overrideWeight").toInt(), 9, 5000);

    // With the owner's credentials dev may be changed too.
    auto owned = makeDashboard(owner);
    owned->setCurrentService(Demo);
    QTRY_COMPARE_WITH_TIMEOUT(owned->invokers()->rowCount(), 2, 10000);
    QCOMPARE(cell(owned->invokers(), 0, "actionRefusal").toString(), QString());
    QCOMPARE(owned->registryAddress(), m_zk->hosts()); // credentials never shown
    QSignalSpy done(owned.get(), &Dashboard::actionFinished);
    owned->setWeight(QStringLiteral("dev"), addressOf(dev), 5);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 5000);
    QCOMPARE(done.last().at(0).toBool(), true);
    QTRY_COMPARE_WITH_TIMEOUT(cell(invokers, 0, "overrideWeight").toInt(), 5, 5000);

    // --read-only refuses everything, calls included, and says so.
    auto readOnly = makeDashboard(owner, true);
    QCOMPARE(readOnly->writeRefusal(), QStringLiteral("the dashboard was started with --read-only"));
    QCOMPARE(readOnly->callRefusal(), QStringLiteral("the dashboard was started with --read-only"));
    QSignalSpy answered(readOnly.get(), &Dashboard::callFinished);
    readOnly->tryCall(addressOf(dev), QStringLiteral("Sample::EchoService"), QStringLiteral("echo"), QStringLiteral("[\"x\"]"));
    QCOMPARE(answered.count(), 1);
    QCOMPARE(answered.last().at(0).toBool(), false);
}

void tst_Dashboard::tryCallAnswersThroughTheDynamicCallApi()
{
    SampleServer server(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    auto dashboard = makeDashboard(m_zk->hosts());
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->isLoaded(), 10000);
    QSignalSpy answered(dashboard.get(), &Dashboard::callFinished);
    struct Case
    {
        QString interface, method, arguments;
        bool ok;
        QString contains;
    };
    const QList<Case> cases{
        {QStringLiteral("Sample::EchoService"), QStringLiteral("echo"), QStringLiteral("[\"from the dashboard\"]"), true,
         QStringLiteral("from the dashboard")},
        {QStringLiteral("Sample::DemoService"), QStringLiteral("sum"), QStringLiteral("[[1, 2, 3]]"), true, QStringLiteral("6")},
        {QStringLiteral("Sample::DemoService"), QStringLiteral("divide"), QStringLiteral("[1, 0]"), false,
         QStringLiteral("domain_error")},
        {QStringLiteral("Sample::DemoService"), QStringLiteral("nope"), QStringLiteral("[]"), false,
         QStringLiteral("UnknownMethod")},
        {QStringLiteral("Sample::EchoService"), QStringLiteral("echo"), QStringLiteral("[\"unclosed"), false,
         QStringLiteral("not JSON")},
        {QStringLiteral("Sample::EchoService"), QStringLiteral("echo"), QStringLiteral("{\"a\": 1}"), false,
         QStringLiteral("JSON array")},
    };
    for (const Case &c : cases) {
        const int before = int(answered.count());
        dashboard->tryCall(addressOf(server), c.interface, c.method, c.arguments);
        QTRY_COMPARE_WITH_TIMEOUT(int(answered.count()), before + 1, 10000);
        QCOMPARE(answered.last().at(0).toBool(), c.ok);
        QVERIFY2(answered.last().at(1).toString().contains(c.contains), qPrintable(answered.last().at(1).toString()));
    }
}

void tst_Dashboard::anUnreachableZooKeeperIsSaidAndTheLastTreeKept()
{
    auto staying = std::make_unique<SampleServer>(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer dying(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    RpcConfig config;
    config.set(QStringLiteral("registry-session-timeout-ms"), QStringLiteral("2000"));
    auto dashboard = makeDashboard(m_zk->hosts(), false, config);
    dashboard->setCurrentService(Demo);
    QTRY_COMPARE_WITH_TIMEOUT(dashboard->invokers()->rowCount(), 2, 10000);
    QCOMPARE(dashboard->registryState(), QStringLiteral("connected"));
    QVERIFY(!dashboard->isStale());

    m_zk->stop();
    QTRY_COMPARE_WITH_TIMEOUT(dashboard->registryState(), QStringLiteral("unreachable"), 10000);
    QVERIFY(dashboard->isStale());
    QVERIFY(dashboard->registryMessage().contains(m_zk->hosts()));
    QVERIFY(dashboard->retryInSeconds() > 0);
    QSignalSpy countdown(dashboard.get(), &Dashboard::retryInSecondsChanged);
    QTRY_VERIFY_WITH_TIMEOUT(countdown.count() >= 2, 5000);
    QCOMPARE(dashboard->invokers()->rowCount(), 2); // the last known tree
    QVERIFY(dashboard->writeRefusal().contains(QLatin1String("not connected")));

    // While it is away, an instance dies, and ZooKeeper comes back with no memory: the new
    // session's tree has the survivor (registered again) and not the dead one.
    dying.killHard();
    m_zk->wipe();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
    QTRY_COMPARE_WITH_TIMEOUT(column(dashboard->invokers(), "address"), QStringList{addressOf(*staying)}, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(dashboard->registryState(), QStringLiteral("connected"), 10000);
    QVERIFY(dashboard->registry()->isTreeLoaded());
    QVERIFY(!dashboard->isStale());
    QCOMPARE(dashboard->writeRefusal(), QString());

    // A dashboard started while ZooKeeper is away says so, and what it waits for.
    auto early = makeDashboard(QStringLiteral("127.0.0.1:%1").arg(ZooKeeperServer::freePort()));
    QCOMPARE(early->registryState(), QStringLiteral("connecting"));
    QTRY_COMPARE_WITH_TIMEOUT(early->registryState(), QStringLiteral("unreachable"), 10000);
    QVERIFY(!early->isStale()); // nothing was ever shown
    QString why;
    QVERIFY(!early->isViewReady(QStringLiteral("services"), &why));
    QVERIFY2(why.contains(QLatin1String("does not answer")), qPrintable(why));
}

void tst_Dashboard::theRenderedSceneHoldsTheLiveCluster()
{
    SampleServer devMain(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer devGray(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("gray"));
    SampleServer prodMain(m_zk->hosts(), QStringLiteral("prod"), QStringLiteral("main"));
    auto dashboard = makeDashboard(m_zk->hosts());
    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.setInitialProperties({{QStringLiteral("dashboard"), QVariant::fromValue(dashboard.get())},
                                 {QStringLiteral("initialView"), QStringLiteral("service:") + Demo}});
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Tomato/Dashboard/Main.qml")));
    QCOMPARE(engine.rootObjects().size(), 1);
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    QVERIFY(window);
    window->resize(1280, 800);
    window->show();
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->isViewReady(QStringLiteral("service:") + Demo), 20000);
    QTRY_COMPARE_WITH_TIMEOUT(dashboard->invokers()->rowCount(), 3, 5000);

    QStringList stages, groups, addresses;
    QTRY_VERIFY_WITH_TIMEOUT((stages.clear(), collect(window->contentItem(), QStringLiteral("stageHeading"), &stages),
                              stages.size() == 2),
                             5000);
    collect(window->contentItem(), QStringLiteral("groupHeading"), &groups);
    collect(window->contentItem(), QStringLiteral("instanceAddress"), &addresses);
    QVERIFY2(stages[0].contains(QLatin1String("dev")) && stages[1].contains(QLatin1String("prod")),
             qPrintable(stages.join(QLatin1String(" | "))));
    QCOMPARE(groups.size(), 3);
    QVERIFY2(groups[0].contains(QLatin1String("gray")) && groups[1].contains(QLatin1String("main"))
                 && groups[2].contains(QLatin1String("main")),
             qPrintable(groups.join(QLatin1String(" | "))));
    QCOMPARE(addresses, (QStringList{addressOf(devGray), addressOf(devMain), addressOf(prodMain)}));

    const QImage image = window->grabWindow();
    QCOMPARE(image.size(), QSize(1280, 800) * window->devicePixelRatio());
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7) {
        for (int x = 0; x < image.width(); x += 7)
            colours.insert(image.pixel(x, y));
    }
    QVERIFY2(colours.size() > 20, "the scene is (nearly) one flat colour");
}

void tst_Dashboard::theProgramWritesAScreenshotOrSaysWhyNot()
{
    SampleServer server(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("service.png"));
    QProcess program;
    program.start(QStringLiteral(DASHBOARD),
                  {QStringLiteral("--name-service-uri"), QStringLiteral("zookeeper://") + m_zk->hosts(),
                   QStringLiteral("--screenshot"), png, QStringLiteral("--view"), QStringLiteral("service:") + Demo,
                   QStringLiteral("--size"), QStringLiteral("1920x1080"), QStringLiteral("--poll-interval-ms"),
                   QStringLiteral("300")});
    QVERIFY(program.waitForFinished(60000));
    QVERIFY2(program.exitCode() == 0, program.readAllStandardError().constData());
    QVERIFY(program.readAllStandardOutput().contains(png.toUtf8()));
    const QImage image(png);
    QCOMPARE(image.size(), QSize(1920, 1080));

    // No ZooKeeper there: a non-zero exit within the timeout, and the reason.
    const QString unreachable = QStringLiteral("127.0.0.1:%1").arg(ZooKeeperServer::freePort());
    program.start(QStringLiteral(DASHBOARD), {QStringLiteral("--name-service-uri"), unreachable,
                                              QStringLiteral("--screenshot"), dir.filePath(QStringLiteral("none.png")),
                                              QStringLiteral("--timeout"), QStringLiteral("5000")});
    QVERIFY(program.waitForFinished(30000));
    QCOMPARE(program.exitCode(), 1);
    const QByteArray error = program.readAllStandardError();
    QVERIFY2(error.contains("does not answer") && error.contains(unreachable.toUtf8()), error.constData());
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("none.png"))));

    // A service that is not there.
    program.start(QStringLiteral(DASHBOARD), {QStringLiteral("--name-service-uri"), m_zk->hosts(),
                                              QStringLiteral("--screenshot"), dir.filePath(QStringLiteral("none.png")),
                                              QStringLiteral("--view"), QStringLiteral("service:nobody"),
                                              QStringLiteral("--timeout"), QStringLiteral("3000")});
    QVERIFY(program.waitForFinished(30000));
    QCOMPARE(program.exitCode(), 1);
    QVERIFY(program.readAllStandardError().contains("no micro-service nobody"));
}

QTEST_MAIN(tst_Dashboard)
#include "tst_dashboard.moc"

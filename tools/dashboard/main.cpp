// SPDX-License-Identifier: Apache-2.0
// tomato-dashboard (docs/DASHBOARD.md): the live cluster in a Qt Quick window, or, with
// --screenshot, one view rendered offscreen to a PNG once its data has loaded.
#include <dashboard/dashboard.h>

#include <tomato/core/rpcconfig.h>
#include <tomato/core/rpcerror.h>
#include <tomato/core/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QFileInfo>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtGui/QPalette>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickWindow>
#include <QtQuickControls2/QQuickStyle>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(Tomato_DashboardPlugin)

namespace {

enum Exit { Ok = 0, NotLoaded = 1, Usage = 2, Failed = 4 };

void say(const QString &message)
{
    std::fprintf(stderr, "tomato-dashboard: %s\n", qPrintable(message));
}

// A mistake on the command line, found before anything runs.
[[noreturn]] void fail(int code, const QString &message)
{
    say(message);
    std::exit(code);
}

// A failure once the dashboard runs: leave the event loop, so that everything is taken down.
void quit(int code, const QString &message)
{
    say(message);
    QGuiApplication::exit(code);
}

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x20, 0x22, 0x25), base(0x18, 0x1a, 0x1c), text(0xe6, 0xe6, 0xe6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window.lighter(115));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window.lighter(120));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xd6));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, text.darker(160));
    p.setColor(QPalette::Mid, window.lighter(150));
    p.setColor(QPalette::Dark, base.darker(120));
    p.setColor(QPalette::Light, window.lighter(170));
    p.setColor(QPalette::Disabled, QPalette::Text, text.darker(180));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, text.darker(180));
    p.setColor(QPalette::Disabled, QPalette::WindowText, text.darker(180));
    return p;
}

// "system": the platform's palette decides (a dark window colour means dark).
bool wantsDark(const QString &choice)
{
    if (choice == QLatin1String("dark"))
        return true;
    if (choice == QLatin1String("light"))
        return false;
    if (choice != QLatin1String("system"))
        fail(Usage, QStringLiteral("--palette must be light, dark or system, not %1").arg(choice));
    return QGuiApplication::palette().color(QPalette::Window).lightness() < 128;
}

int number(const QCommandLineParser &parser, const QString &option, int min, int max)
{
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    if (!ok || value < min || value > max)
        fail(Usage, QStringLiteral("--%1 takes a number from %2 to %3, not %4").arg(option).arg(min).arg(max).arg(parser.value(option)));
    return value;
}

QSize parseSize(const QString &text)
{
    const QStringList parts = text.split(QLatin1Char('x'));
    bool w = false, h = false;
    const QSize size(parts.value(0).toInt(&w), parts.value(1).toInt(&h));
    if (parts.size() != 2 || !w || !h || size.width() < 320 || size.height() < 240 || size.width() > 7680
        || size.height() > 4320)
        fail(Usage, QStringLiteral("--size takes WIDTHxHEIGHT between 320x240 and 7680x4320, not %1").arg(text));
    return size;
}

// Renders the window to `file` once the dashboard says the view's data is loaded and the
// scene has been drawn with it; exits 1 with the reason when that does not happen in time.
void screenshotWhenReady(Tomato::Dashboard *dashboard, QQuickWindow *window, const QString &view,
                         const QString &file, int timeoutMs)
{
    auto *poll = new QTimer(window);
    const QDeadlineTimer deadline(timeoutMs);
    QObject::connect(poll, &QTimer::timeout, window, [=] {
        QString why;
        if (!dashboard->isViewReady(view, &why)) {
            if (deadline.hasExpired()) {
                poll->stop();
                quit(NotLoaded, QStringLiteral("%1 could not be loaded within %2 ms: %3").arg(view).arg(timeoutMs).arg(why));
            }
            return;
        }
        poll->stop();
        // One more frame, so that what the last data changed is on screen.
        QObject::connect(window, &QQuickWindow::frameSwapped, window, [=] {
            const QImage image = window->grabWindow();
            if (image.isNull() || !image.save(file))
                return quit(Failed, QStringLiteral("cannot write %1").arg(file));
            std::printf("%s: %s (%dx%d)\n", qPrintable(view), qPrintable(QFileInfo(file).absoluteFilePath()),
                        image.width(), image.height());
            QGuiApplication::exit(Ok);
        }, Qt::SingleShotConnection);
        window->requestUpdate();
    });
    poll->start(100);
}

} // namespace

int main(int argc, char *argv[])
{
    // A screenshot needs no display: render offscreen unless told otherwise. Without a
    // display and without --screenshot, say so (after --help has had its chance) rather than
    // let Qt abort.
    const bool noDisplay = qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY")
                           && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        screenshot = screenshot || qstrncmp(argv[i], "--screenshot", 12) == 0;
    if ((screenshot || noDisplay) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("tomato-dashboard"));
    QGuiApplication::setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QGuiApplication::setOrganizationName(QStringLiteral("Tomato RPC"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The live cluster of a Tomato RPC registry: micro-services, their instances grouped by stage and\n"
        "group, consumers, health, and actions (docs/DASHBOARD.md)."));
    parser.addOptions({
        {QStringLiteral("name-service-uri"),
         QStringLiteral("The registry: zookeeper://[user:password@]host:port[,host:port...][/chroot] "
                        "(default: $TOMATO_NAME_SERVICE_URI, else --tomato-rpc.name-service-uri)."),
         QStringLiteral("uri")},
        {QStringLiteral("screenshot"), QStringLiteral("Render one view to a PNG once its data has loaded, and exit."),
         QStringLiteral("file.png")},
        {QStringLiteral("view"),
         QStringLiteral("The view to open: services, service:<micro-service-id> or instance:<host:port>."),
         QStringLiteral("view"), QStringLiteral("services")},
        {QStringLiteral("size"), QStringLiteral("The window size (default 1280x800)."), QStringLiteral("WxH"),
         QStringLiteral("1280x800")},
        {QStringLiteral("palette"), QStringLiteral("light, dark or system (default)."), QStringLiteral("palette"),
         QStringLiteral("system")},
        {QStringLiteral("read-only"), QStringLiteral("Offer no action (weights, disabling, calls).")},
        {QStringLiteral("poll-interval-ms"),
         QStringLiteral("How often each instance's status pages are read (default 2000)."), QStringLiteral("ms"),
         QStringLiteral("2000")},
        {QStringLiteral("max-polls-per-second"),
         QStringLiteral("The most status polls the dashboard makes a second, all instances together (default 20)."),
         QStringLiteral("n"), QStringLiteral("20")},
        {QStringLiteral("samples"),
         QStringLiteral("With --screenshot of an instance: how many health samples its charts need first (default 2)."),
         QStringLiteral("n"), QStringLiteral("2")},
        {QStringLiteral("timeout"),
         QStringLiteral("With --screenshot: how long the data may take to load (default 20000)."),
         QStringLiteral("ms"), QStringLiteral("20000")},
    });
    Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser);
    if (noDisplay && !screenshot)
        fail(Usage, QStringLiteral("no display (DISPLAY and WAYLAND_DISPLAY are not set): run it in a desktop session, "
                                   "or write a view to a PNG with --screenshot FILE.png"));
    QString uri = parser.value(QStringLiteral("name-service-uri"));
    if (uri.isEmpty())
        uri = qEnvironmentVariable("TOMATO_NAME_SERVICE_URI");
    if (!uri.isEmpty())
        config.setNameServiceUri(uri);
    if (config.nameServiceUri().isEmpty())
        fail(Usage, QStringLiteral("no registry: give --name-service-uri zookeeper://host:port"));

    Tomato::Dashboard::Options options;
    options.readOnly = parser.isSet(QStringLiteral("read-only"));
    options.pollIntervalMs = number(parser, QStringLiteral("poll-interval-ms"), 100, 3600000);
    options.maxPollsPerSecond = number(parser, QStringLiteral("max-polls-per-second"), 1, 1000);
    options.readySamples = number(parser, QStringLiteral("samples"), 1, 150);
    const int timeoutMs = number(parser, QStringLiteral("timeout"), 100, 3600000);
    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE"))
        QQuickStyle::setStyle(QStringLiteral("Fusion"));
    options.darkMode = wantsDark(parser.value(QStringLiteral("palette")));
    if (options.darkMode)
        QGuiApplication::setPalette(darkPalette());
    const QSize size = parseSize(parser.value(QStringLiteral("size")));
    const QString view = parser.value(QStringLiteral("view"));
    if (!view.startsWith(QLatin1String("service:")) && !view.startsWith(QLatin1String("instance:"))
        && view != QLatin1String("services"))
        fail(Usage, QStringLiteral("--view must be services, service:<id> or instance:<host:port>, not %1").arg(view));

    std::unique_ptr<Tomato::Dashboard> dashboard;
    try {
        dashboard = std::make_unique<Tomato::Dashboard>(config, options);
    } catch (const Tomato::RpcError &e) {
        fail(Usage, e.message()); // a malformed registry URI: nothing runs yet
    }

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.setInitialProperties({{QStringLiteral("dashboard"), QVariant::fromValue(dashboard.get())},
                                 {QStringLiteral("initialView"), view}});
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Tomato/Dashboard/Main.qml")));
    auto *window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    if (!window) {
        say(QStringLiteral("the dashboard's QML did not load (see the messages above)"));
        return Failed;
    }
    window->resize(size);
    dashboard->start();
    if (parser.isSet(QStringLiteral("screenshot")))
        screenshotWhenReady(dashboard.get(), window, view, parser.value(QStringLiteral("screenshot")),
                            timeoutMs);
    window->show();
    const int code = QGuiApplication::exec();
    engine.clearComponentCache();
    return code;
}

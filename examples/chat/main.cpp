// SPDX-License-Identifier: Apache-2.0
// tomato-chat: a chat window (Main.qml) on the room that tomato-chat-server keeps, found in
// ZooKeeper. Messages arrive as the remote signal Chat::RoomService::messagePosted
// (docs/SIGNALS.md), through the Tomato.Rpc module's Stub.events.
//
//   tomato-chat --registry zookeeper://127.0.0.1:2181 --name Alice [--stage dev --group main]
//               [--say "text"]... [--screenshot chat.png [--expect 2] [--timeout 30]]
//   tomato-chat --server tcp://127.0.0.1:4575 --name Bob      (one room server, no registry)
//
// It prints "LIVE <instance>" when its subscription is confirmed and "MESSAGE <number>
// <author>: <text>" for each message it shows (from an event or from history()). The --say
// texts are sent in order once the subscription is live. With --screenshot it renders
// offscreen (as it does without a display), writes the window to the PNG once its texts are
// sent and it shows --expect messages (default: as many as it says), and exits 0; it exits 1
// with a line on stderr when the client cannot be set up, a text cannot be sent, the time
// runs out (--timeout) or the PNG cannot be written.
#include "roomservice.h"
#include "roomservice_stub.h" // before registerInterface(): it gives the QML Stub its `events`

#include <qmlstub.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/core/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickWindow>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(Tomato_RpcPlugin)

namespace {

// What the window needs beyond QML's Stub: on which room servers its subscription is live
// (from the Stub's subscribed and subscriptionEnded signals), and the terminal: a line per
// message shown, and in --screenshot mode the PNG and the exit code. Lives on the GUI thread,
// as the stub and the window do.
class Session : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool live READ isLive NOTIFY liveChanged)
    Q_PROPERTY(QString instance READ instance NOTIFY liveChanged)

public:
    explicit Session(QString screenshot) : m_screenshot(std::move(screenshot)) {}

    bool isLive() const { return !m_instances.isEmpty(); }
    QString instance() const { return m_instances.join(QLatin1String(", ")); }
    void setWindow(QQuickWindow *window) { m_window = window; }

    // The Stub's subscription reports: live on one more room server, or no longer; reset()
    // when the Stub made a new client (its subscriptions start again).
    Q_INVOKABLE void joined(const QString &instance)
    {
        if (m_instances.contains(instance))
            return;
        std::printf("LIVE %s\n", qPrintable(instance));
        std::fflush(stdout);
        setInstances(m_instances + QStringList{instance});
    }
    Q_INVOKABLE void left(const QString &instance)
    {
        QStringList rest = m_instances;
        rest.removeAll(instance);
        setInstances(rest);
    }
    Q_INVOKABLE void reset() { setInstances({}); }

    Q_INVOKABLE void shown(int number, const QString &author, const QString &text)
    {
        std::printf("MESSAGE %d %s: %s\n", number, qPrintable(author), qPrintable(text));
        std::fflush(stdout);
    }

    // A text could not be sent, or the client not set up: the window shows it; a scripted run
    // fails. Queued: it may come while the QML loads, before the event loop runs.
    Q_INVOKABLE void failed(const QString &message)
    {
        if (m_screenshot.isEmpty())
            return;
        std::fprintf(stderr, "tomato-chat: %s\n", qPrintable(message));
        QMetaObject::invokeMethod(QCoreApplication::instance(), [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
    }

    // The script is done and the expected messages are shown: in --screenshot mode, writes
    // the window once it has drawn them, and exits.
    Q_INVOKABLE void finish()
    {
        if (m_screenshot.isEmpty() || !m_window || m_finishing)
            return;
        m_finishing = true;
        // Once a frame shows the newest messages: the list takes a frame or two to lay out its
        // last rows and scroll to them.
        connect(m_window, &QQuickWindow::frameSwapped, this, &Session::frameShown);
        m_window->update();
    }

Q_SIGNALS:
    void liveChanged();

private:
    void setInstances(const QStringList &instances)
    {
        if (instances == m_instances)
            return;
        const bool was = isLive();
        m_instances = instances;
        if (was != isLive() || isLive())
            emit liveChanged();
    }

    void frameShown()
    {
        if (!m_window->property("showsNewest").toBool()) {
            m_window->update();
            return;
        }
        disconnect(m_window, &QQuickWindow::frameSwapped, this, &Session::frameShown);
        if (m_window->grabWindow().save(m_screenshot)) {
            std::printf("wrote %s\n", qPrintable(m_screenshot));
            std::fflush(stdout);
            QCoreApplication::exit(0);
        } else {
            std::fprintf(stderr, "tomato-chat: cannot write %s\n", qPrintable(m_screenshot));
            QCoreApplication::exit(1);
        }
    }

    QString m_screenshot;
    QPointer<QQuickWindow> m_window;
    QStringList m_instances;
    bool m_finishing = false;
};

} // namespace

int main(int argc, char **argv)
{
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        screenshot = screenshot || qstrncmp(argv[i], "--screenshot", 12) == 0;
    if ((screenshot || qEnvironmentVariableIsEmpty("DISPLAY")) && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("tomato-chat"));
    app.setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "A chat window on the room of tomato-chat-server, found in ZooKeeper; messages arrive as\n"
        "the remote signal Chat::RoomService::messagePosted (docs/SIGNALS.md)."));
    const QCommandLineOption registryOption(QStringLiteral("registry"),
                                            QStringLiteral("Where to find the room (default zookeeper://127.0.0.1:2181)."),
                                            QStringLiteral("uri"), QStringLiteral("zookeeper://127.0.0.1:2181"));
    const QCommandLineOption serverOption(QStringLiteral("server"),
                                          QStringLiteral("Talk to this room server (tcp://host:port) instead of "
                                                         "finding one in the registry."),
                                          QStringLiteral("address"));
    const QCommandLineOption nameOption(QStringLiteral("name"), QStringLiteral("Who writes from this window (default Guest)."),
                                        QStringLiteral("name"), QStringLiteral("Guest"));
    const QCommandLineOption stageOption(QStringLiteral("stage"), QStringLiteral("The room's stage (default: the configuration's)."),
                                         QStringLiteral("stage"));
    const QCommandLineOption groupOption(QStringLiteral("group"), QStringLiteral("The room's group (default: the configuration's)."),
                                         QStringLiteral("group"));
    const QCommandLineOption sayOption(QStringLiteral("say"),
                                       QStringLiteral("Send this text once the subscription is live (repeatable, in order)."),
                                       QStringLiteral("text"));
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
                                              QStringLiteral("Write the window to a PNG once the texts are sent and "
                                                             "--expect messages are shown, and exit."),
                                              QStringLiteral("file"));
    const QCommandLineOption expectOption(QStringLiteral("expect"),
                                          QStringLiteral("With --screenshot: how many messages to show first, others' "
                                                         "included (default: the number of --say texts)."),
                                          QStringLiteral("n"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
                                           QStringLiteral("With --screenshot: give up after this many seconds (default 30)."),
                                           QStringLiteral("seconds"), QStringLiteral("30"));
    parser.addOptions({registryOption, serverOption, nameOption, stageOption, groupOption, sayOption, screenshotOption, expectOption,
                       timeoutOption});
    // --help, --version and --tomato-rpc.<key>=<value>, which override the RpcClient's properties
    // as in any Tomato program (docs/QML.md); a mistake is one line on stderr and exit code 2.
    Tomato::RpcConfig::fromCommandLine(app, parser);
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "tomato-chat: unexpected argument '%s' (see --help)\n",
                     qPrintable(parser.positionalArguments().first()));
        return 2;
    }

    const QStringList say = parser.values(sayOption);
    bool expectOk = true, timeoutOk = true;
    const int expect = parser.isSet(expectOption) ? parser.value(expectOption).toInt(&expectOk) : int(say.size());
    const int timeout = parser.value(timeoutOption).toInt(&timeoutOk);
    if (!expectOk || !timeoutOk || expect < 0 || timeout <= 0) {
        std::fprintf(stderr, "tomato-chat: --expect and --timeout take a number (see --help)\n");
        return 2;
    }
    if (parser.value(nameOption).trimmed().isEmpty()) {
        std::fprintf(stderr, "tomato-chat: --name must not be empty\n");
        return 2;
    }

    // The stub in scope: the QML Stub of Chat::RoomService gets `events`, its remote signals.
    Tomato::Qml::registerInterface<Chat::RoomService>();
    qRegisterMetaType<Chat::Message>();

    Session session(parser.value(screenshotOption));
    QQmlEngine::setObjectOwnership(&session, QQmlEngine::CppOwnership);
    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.setInitialProperties({
        {QStringLiteral("registry"), parser.value(registryOption)},
        {QStringLiteral("server"), parser.value(serverOption)},
        {QStringLiteral("stage"), parser.value(stageOption)},
        {QStringLiteral("group"), parser.value(groupOption)},
        {QStringLiteral("name"), parser.value(nameOption).trimmed()},
        {QStringLiteral("script"), say},
        {QStringLiteral("expect"), expect},
        {QStringLiteral("session"), QVariant::fromValue(static_cast<QObject *>(&session))},
    });
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/TomatoChat/Main.qml")));
    auto *window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    if (!window)
        return 1;
    session.setWindow(window);
    if (parser.isSet(screenshotOption)) {
        QTimer::singleShot(timeout * 1000, &app, [&] {
            std::fprintf(stderr, "tomato-chat: timed out after %d s: %d of %d messages shown, %s (%s)\n", timeout,
                         window->property("messageCount").toInt(), expect,
                         window->property("scriptDone").toBool() ? "every text sent" : "texts still to send",
                         qPrintable(window->property("statusText").toString()));
            QCoreApplication::exit(1);
        });
    }
    return app.exec();
}

#include "main.moc"

// SPDX-License-Identifier: Apache-2.0
// tomato-quick-caller: calls the sample server's DemoService from QML (Main.qml) through the
// Tomato.Rpc module: a Promise per call, results and errors shown as they arrive.
//
//   tomato-quick-caller [--server tcp://127.0.0.1:4567] [--screenshot caller.png]
//
// With --screenshot (or without a display) it renders offscreen, makes its calls, writes the
// window to the PNG once every call has settled, and exits 0 (1 when the PNG could not be
// written or the calls did not settle within 20 s).
#include "demoservice.h"
#include "echoservice.h"

#include <qmlstub.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickWindow>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(Tomato_RpcPlugin)

int main(int argc, char **argv)
{
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        screenshot = screenshot || qstrncmp(argv[i], "--screenshot", 12) == 0;
    if ((screenshot || qEnvironmentVariableIsEmpty("DISPLAY")) && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("tomato-quick-caller"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Calls the sample server from QML."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("server"), QStringLiteral("The sample server (default tcp://127.0.0.1:4567)."),
         QStringLiteral("address"), QStringLiteral("tcp://127.0.0.1:4567")},
        {QStringLiteral("screenshot"), QStringLiteral("Write the window to a PNG once the calls settled, and exit."),
         QStringLiteral("file")},
    });
    parser.process(app);

    // The stubs know the methods (and their types) before any call.
    Tomato::Qml::registerInterface<Sample::EchoService>();
    Tomato::Qml::registerInterface<Sample::DemoService>();

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.setInitialProperties({{QStringLiteral("serverAddress"), parser.value(QStringLiteral("server"))}});
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/QuickCaller/Main.qml")));
    auto *window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    if (!window)
        return 1;
    if (!parser.isSet(QStringLiteral("screenshot")))
        return app.exec();

    const QString file = parser.value(QStringLiteral("screenshot"));
    int rc = 1;
    auto *poll = new QTimer(&app);
    QObject::connect(poll, &QTimer::timeout, &app, [&] {
        if (window->property("pending").toInt() > 0)
            return;
        poll->stop();
        // One more frame so that the last answers are drawn.
        QTimer::singleShot(100, &app, [&] {
            if (window->grabWindow().save(file)) {
                std::printf("wrote %s\n", qPrintable(file));
                rc = 0;
            } else {
                std::fprintf(stderr, "cannot write %s\n", qPrintable(file));
            }
            app.quit();
        });
    });
    poll->start(50);
    QTimer::singleShot(20000, &app, [&] {
        std::fprintf(stderr, "the calls did not settle within 20 s\n");
        app.quit();
    });
    app.exec();
    return rc;
}

// SPDX-License-Identifier: Apache-2.0
// tomato-board-app: a service implemented inside a GUI application. Sample::BoardService is
// published with PublishOptions::Dispatch::ObjectThread, so its methods run on the window's
// own thread, between paint events, and may touch widgets directly: a remote caller changes
// what the window shows. No locks, no queued signals of our own.
//
//   tomato-board-app [--port 4570] [--screenshot board.png --after 2]
//   tomato call 127.0.0.1:4570 Sample::BoardService.show '["Hello from afar", "#1b5e20"]'
//
// It prints "READY <port>" once it listens. With --screenshot (or no display) it renders
// offscreen and writes the window to the PNG after --after calls of show(), then exits 0.
#include "boardservice.h"

#include <tomato/server/callcontext.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWidget>

#include <cstdio>
#include <functional>

namespace {

class Board : public Sample::BoardService
{
public:
    Board(QLabel *text, QLabel *status) : m_text(text), m_status(status) {}

    bool show(const QString &text, const QString &color) override
    {
        // The window's thread: the widgets are ours to change.
        const bool onGuiThread = QThread::currentThread() == m_text->thread();
        const QColor c = QColor::fromString(color);
        m_text->setText(text);
        m_text->setStyleSheet(QStringLiteral("color: %1").arg((c.isValid() ? c : QColor(Qt::black)).name()));
        const auto *call = Tomato::CallContext::current();
        ++m_changes;
        m_status->setText(QStringLiteral("change %1, by %2, on the %3 thread")
                              .arg(m_changes)
                              .arg(call ? call->peer() : QStringLiteral("?"),
                                   onGuiThread ? QStringLiteral("window's") : QStringLiteral("wrong")));
        if (changed)
            changed(m_changes);
        return onGuiThread;
    }
    QString shown() const override { return m_text->text(); }

    std::function<void(int)> changed;

private:
    QLabel *m_text, *m_status;
    int m_changes = 0;
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
    QApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("tomato-board-app"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("A window that remote callers change: Sample::BoardService."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("port"), QStringLiteral("The port to listen on, on 127.0.0.1 (0: any free one; default 4570)."),
         QStringLiteral("port"), QStringLiteral("4570")},
        {QStringLiteral("screenshot"), QStringLiteral("Write the window to a PNG after --after changes, and exit."),
         QStringLiteral("file")},
        {QStringLiteral("after"), QStringLiteral("With --screenshot: how many show() calls first (default 1)."),
         QStringLiteral("n"), QStringLiteral("1")},
    });
    parser.process(app);

    QWidget window;
    window.setWindowTitle(QStringLiteral("Tomato RPC: a window that is a service"));
    auto *heading = new QLabel(QStringLiteral("Sample::BoardService"));
    heading->setStyleSheet(QStringLiteral("color: #555; font-size: 14px"));
    auto *text = new QLabel(QStringLiteral("Waiting for a remote caller…"));
    text->setAlignment(Qt::AlignCenter);
    text->setWordWrap(true);
    QFont big = text->font();
    big.setPointSize(26);
    big.setBold(true);
    text->setFont(big);
    auto *status = new QLabel;
    status->setStyleSheet(QStringLiteral("color: #555"));
    auto *layout = new QVBoxLayout(&window);
    layout->addWidget(heading);
    layout->addWidget(text, 1);
    layout->addWidget(status);
    window.resize(560, 260);
    window.show();

    Board board(text, status);
    Tomato::RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    config.setPort(quint16(parser.value(QStringLiteral("port")).toUInt()));
    Tomato::RpcServer server(config);
    server.publish<Sample::BoardService>(&board, Tomato::PublishOptions().setDispatch(
                                                     Tomato::PublishOptions::Dispatch::ObjectThread));
    if (!server.start()) {
        std::fprintf(stderr, "cannot start: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    status->setText(QStringLiteral("Serving on tcp://127.0.0.1:%1: try\n  tomato call 127.0.0.1:%1 "
                                   "Sample::BoardService.show '[\"Hello\", \"#1b5e20\"]'").arg(server.port()));
    std::printf("READY %u\n", unsigned(server.port()));
    std::fflush(stdout);

    int rc = 0;
    if (parser.isSet(QStringLiteral("screenshot"))) {
        const QString file = parser.value(QStringLiteral("screenshot"));
        const int after = qMax(1, parser.value(QStringLiteral("after")).toInt());
        rc = 1;
        board.changed = [&, file, after](int changes) {
            if (changes != after)
                return;
            // After this call's answer has gone and the window has painted the change.
            QTimer::singleShot(100, &window, [&, file] {
                if (window.grab().save(file)) {
                    std::printf("wrote %s\n", qPrintable(file));
                    std::fflush(stdout);
                    rc = 0;
                }
                app.quit();
            });
        };
        QTimer::singleShot(60000, &app, [&] {
            std::fprintf(stderr, "no %d calls within 60 s\n", after);
            app.quit();
        });
    }
    app.exec();
    server.stop();
    return rc;
}

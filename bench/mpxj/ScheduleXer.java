// The MPXJ side of bench/bench_xer_cli.py: read an XER file, schedule it with MPXJ's Primavera
// scheduler at the project's data date, print the same fields as `crmpm xer schedule FILE --format json`
// (activity code, early and late dates, total and free float in hours, critical) as JSON on stdout.
// Compiled by the benchmark into a temporary folder; MPXJ's jars come from the `mpxj` Python package.

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

import org.mpxj.Duration;
import org.mpxj.ProjectFile;
import org.mpxj.Task;
import org.mpxj.TimeUnit;
import org.mpxj.cpm.PrimaveraScheduler;
import org.mpxj.primavera.PrimaveraXERFileReader;

public class ScheduleXer {
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm");

    private static String date(LocalDateTime value) {
        return value == null ? "null" : "\"" + MINUTE.format(value) + "\"";
    }

    private static String hours(ProjectFile file, Duration value) {
        if (value == null) {
            return "null";
        }
        double h = value.convertUnits(TimeUnit.HOURS, file.getProjectProperties()).getDuration();
        return Double.toString(Math.round(h * 10000.0) / 10000.0);
    }

    private static String text(String value) {
        return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public static void main(String[] args) throws Exception {
        ProjectFile file = new PrimaveraXERFileReader().read(new java.io.FileInputStream(args[0]));
        LocalDateTime dataDate = file.getProjectProperties().getStatusDate();
        if (dataDate == null) {
            dataDate = file.getProjectProperties().getStartDate();
        }
        new PrimaveraScheduler().schedule(file, dataDate);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        out.write("{\n  \"project\": " + text(file.getProjectProperties().getProjectID())
                  + ",\n  \"data_date\": " + date(dataDate) + ",\n  \"activities\": [");
        String sep = "\n";
        for (Task task : file.getTasks()) {
            if (task.getSummary()) {
                continue;  // WBS elements: crmpm prints activities only
            }
            out.write(sep + "    {\n      \"code\": " + text(task.getActivityID())
                      + ",\n      \"early_start\": " + date(task.getEarlyStart())
                      + ",\n      \"early_finish\": " + date(task.getEarlyFinish())
                      + ",\n      \"late_start\": " + date(task.getLateStart())
                      + ",\n      \"late_finish\": " + date(task.getLateFinish())
                      + ",\n      \"total_float_hours\": " + hours(file, task.getTotalSlack())
                      + ",\n      \"free_float_hours\": " + hours(file, task.getFreeSlack())
                      + ",\n      \"critical\": " + task.getCritical() + "\n    }");
            sep = ",\n";
        }
        out.write("\n  ]\n}\n");
        out.flush();
    }
}

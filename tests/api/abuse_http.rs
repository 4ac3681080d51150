//! Issue 17, HTTP-level attacks: what a client without a token can make the server keep.

use axum::http::Method;

// Item 6: 3,000 invented methods added 51,000 metric series (24 MB) without a token. Labels now
// come from closed sets: invented methods are `OTHER`, unmatched paths are `unmatched`.
both!(
    invented_methods_and_paths_add_no_metric_series,
    |app| async move {
        for i in 0..200 {
            let method = Method::from_bytes(format!("XM{i:04}").as_bytes()).unwrap();
            let r = app
                .request(method, &format!("/invented/{i}/path"))
                .send()
                .await;
            assert!(r.status.is_client_error(), "{}", r.status);
            app.request(Method::GET, &format!("/nothing-{i}"))
                .send()
                .await;
        }
        let metrics = app.get("/metrics").send_text().await;
        let series: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with("oms_http_requests_total{"))
            .collect();
        for line in &series {
            assert!(
                !line.contains("XM0") && !line.contains("invented") && !line.contains("nothing-"),
                "{line}"
            );
        }
        assert!(
            series
                .iter()
                .any(|l| l.contains(r#"method="OTHER""#) && l.contains(r#"route="unmatched""#)),
            "{series:?}"
        );
    }
);
